/**
 * A `wx` global for page tests. Its network edge (wx.request, wx.uploadFile, wx.login)
 * and the device pickers (wx.chooseMedia, wx.chooseLocation, the subscribe dialog) are
 * scripted per test; storage, navigation and toasts are recorded so tests can assert
 * what the page did. Nothing of the mini-program's own code is replaced.
 */

function splitUrl(url) {
  const [withoutQuery, query = ''] = url.split('?')
  const path = withoutQuery.replace(/^https?:\/\/[^/]+/, '')
  const params = {}
  query.split('&').filter(Boolean).forEach(pair => {
    const [key, value = ''] = pair.split('=')
    const name = decodeURIComponent(key)
    const decoded = decodeURIComponent(value)
    if (name in params) params[name] = [].concat(params[name], decoded)
    else params[name] = decoded
  })
  return { path, query: params }
}

/**
 * @param {{ routes?: Record<string, (req: object) => ({ status?: number, data?: any, headers?: object } | 'fail')> }} [script]
 */
function installWx(script = {}) {
  const routes = { ...(script.routes || {}) }
  const storage = new Map()
  const calls = { requests: [], uploads: [], navigations: [], toasts: [], subscribes: [], previews: [], logins: 0, stopPullDownRefresh: 0 }
  const pickers = { media: [], location: null }
  const heldUploads = []

  function answer(key, req) {
    const handler = routes[key]
    if (!handler) return { status: 404, data: { type: 'about:blank', status: 404, title: 'Not found', detail: `no stub for ${key}` } }
    return handler(req)
  }

  const wx = {
    request({ url, method = 'GET', header = {}, data, success, fail }) {
      const { path, query } = splitUrl(url)
      const req = { method, path, query, headers: header, body: data, url }
      calls.requests.push(req)
      const result = answer(`${method} ${path}`, req)
      setTimeout(() => {
        if (result === 'fail') fail({ errMsg: 'request:fail timeout' })
        else success({ statusCode: result.status || 200, header: result.headers || {}, data: result.data })
      }, 0)
      return { abort() {} }
    },
    uploadFile({ url, filePath, name, header = {}, success, fail }) {
      const { path } = splitUrl(url)
      const req = { path, filePath, name, headers: header }
      calls.uploads.push(req)
      const listeners = []
      const finish = () => {
        const result = answer(`UPLOAD ${path}`, req)
        if (result === 'fail') return fail({ errMsg: 'uploadFile:fail' })
        listeners.forEach(listener => listener({ progress: 100, totalBytesSent: 100, totalBytesExpectedToSend: 100 }))
        // wx.uploadFile answers the body as a string.
        success({ statusCode: result.status || 201, header: result.headers || {}, data: JSON.stringify(result.data) })
      }
      setTimeout(() => {
        listeners.forEach(listener => listener({ progress: 40, totalBytesSent: 40, totalBytesExpectedToSend: 100 }))
        if (script.holdUploads) heldUploads.push(finish)
        else finish()
      }, 0)
      return { onProgressUpdate: listener => listeners.push(listener), abort() {} }
    },
    login({ success }) {
      calls.logins += 1
      setTimeout(() => success({ code: `wx-code-${calls.logins}`, errMsg: 'login:ok' }), 0)
    },
    chooseMedia({ count, success, fail }) {
      calls.chooseMediaCount = count
      const files = pickers.media.splice(0, count)
      // A picked file is a path (1000 bytes) or { path, size }.
      const tempFiles = files.map(file => (typeof file === 'string' ? { tempFilePath: file, size: 1000 } : { tempFilePath: file.path, size: file.size }))
        .map(file => ({ ...file, fileType: 'image' }))
      setTimeout(() => (tempFiles.length ? success({ tempFiles }) : fail({ errMsg: 'chooseMedia:fail cancel' })), 0)
    },
    chooseLocation({ success, fail }) {
      setTimeout(() => (pickers.location ? success(pickers.location) : fail({ errMsg: 'chooseLocation:fail cancel' })), 0)
    },
    requestSubscribeMessage({ tmplIds, success }) {
      calls.subscribes.push(tmplIds)
      setTimeout(() => success(Object.fromEntries(tmplIds.map(id => [id, 'accept']))), 0)
    },
    getStorageSync: key => (storage.has(key) ? JSON.parse(storage.get(key)) : ''),
    setStorageSync: (key, value) => storage.set(key, JSON.stringify(value)),
    removeStorageSync: key => storage.delete(key),
    navigateTo: ({ url }) => calls.navigations.push({ how: 'navigateTo', url }),
    redirectTo: ({ url }) => calls.navigations.push({ how: 'redirectTo', url }),
    reLaunch: ({ url }) => calls.navigations.push({ how: 'reLaunch', url }),
    navigateBack: () => calls.navigations.push({ how: 'navigateBack' }),
    showToast: options => calls.toasts.push(options.title),
    setNavigationBarTitle: () => null,
    stopPullDownRefresh: () => {
      calls.stopPullDownRefresh += 1
    },
    previewImage: options => calls.previews.push(options),
  }

  global.wx = wx
  return {
    wx,
    calls,
    pickers,
    routes,
    storage,
    /** Let the uploads held by `holdUploads` finish. */
    releaseUploads() {
      heldUploads.splice(0).forEach(finish => finish())
    },
    requestsTo(key) {
      return calls.requests.filter(req => `${req.method} ${req.path}` === key)
    },
    signIn(person = { kind: 'resident', role: 'resident', userId: 1 }) {
      storage.set('wudan.session', JSON.stringify({ accessToken: 'access-1', refreshToken: 'refresh-1', ...person }))
    },
  }
}

module.exports = { installWx }
