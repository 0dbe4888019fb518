/**
 * The wudan service's HTTP API, one function per endpoint the mini-program uses.
 *
 * The network is a seam: `request` and `upload` are passed in. In the app they wrap
 * `wx.request` and `wx.uploadFile` (utils/transport.js); the contract tests pass
 * adapters over node's fetch and run this same module against a real server.
 *
 * A transport's `request({ method, url, headers, data })` resolves to
 * `{ status, headers, data }` (headers lower-cased, data parsed from JSON) whatever the
 * status, and rejects only when no answer arrived. Its `upload({ url, headers, filePath,
 * name, onProgress })` resolves the same way.
 */
const { fromAnswer, networkError } = require('./errors')

/**
 * @typedef {{ status: number, headers: Record<string, string>, data: any }} Answer
 * @typedef {{ request(req: { method: string, url: string, headers: Record<string, string>, data?: any }): Promise<Answer>,
 *            upload(req: { url: string, headers: Record<string, string>, filePath: string, name: string,
 *                         onProgress?: (percent: number) => void }): Promise<Answer> }} Transport
 * @typedef {{ limit?: number, offset?: number }} Paging
 * @typedef {{ items: any[], total: number, limit: number, offset: number }} Page
 */

function queryString(params) {
  if (!params) return ''
  const parts = []
  Object.keys(params).forEach(key => {
    const value = params[key]
    if (value === undefined || value === null || value === '') return
    // Filters such as `state` repeat rather than join: ?state=a&state=b.
    const values = Array.isArray(value) ? value : [value]
    values.forEach(v => parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`))
  })
  return parts.length ? '?' + parts.join('&') : ''
}

/**
 * @param {{ baseUrl: string | (() => string), transport: Transport,
 *           session: ReturnType<typeof import('./session').createSession>, language?: string }} options
 */
function createApi({ baseUrl, transport, session, language = 'zh-CN' }) {
  const base = () => (typeof baseUrl === 'function' ? baseUrl() : baseUrl).replace(/\/+$/, '')
  let refreshing = null

  function headersFor(auth, extra) {
    const headers = { 'Accept-Language': language, ...extra }
    const token = auth ? session.accessToken() : null
    if (token) headers.Authorization = `Bearer ${token}`
    return headers
  }

  async function send(method, path, { query, body, headers, auth }) {
    const request = {
      method,
      url: base() + path + queryString(query),
      headers: headersFor(auth, body === undefined ? headers : { 'Content-Type': 'application/json', ...headers }),
    }
    if (body !== undefined) request.data = body
    try {
      return await transport.request(request)
    } catch (err) {
      throw networkError(err)
    }
  }

  /**
   * A new access token from the refresh token, once even when several calls find the
   * old one refused at the same moment: each refresh token is single use.
   */
  function refresh() {
    if (!refreshing) {
      const token = session.refreshToken()
      refreshing = (async () => {
        if (!token) return false
        const answer = await send('POST', '/auth/refresh', { body: { refresh_token: token }, auth: false })
        if (answer.status !== 200) {
          session.clear()
          return false
        }
        session.save(answer.data)
        return true
      })().finally(() => {
        refreshing = null
      })
    }
    return refreshing
  }

  /**
   * @returns {Promise<Answer>} the answer of a 2xx; anything else is thrown as an ApiError
   */
  async function call(method, path, { query, body, headers, auth = true } = {}) {
    let answer = await send(method, path, { query, body, headers, auth })
    if (answer.status === 401 && auth && session.refreshToken() && (await refresh())) {
      answer = await send(method, path, { query, body, headers, auth })
    }
    if (answer.status >= 200 && answer.status < 300) return answer
    throw fromAnswer(answer.status, answer.data, answer.headers)
  }

  const data = promise => promise.then(answer => answer.data)
  const get = (path, query, options) => data(call('GET', path, { query, ...options }))
  const post = (path, body, options) => data(call('POST', path, { body, ...options }))
  const signIn = (path, body) =>
    post(path, body, { auth: false }).then(tokens => {
      session.save(tokens)
      return tokens
    })

  return {
    /** The absolute address of a URL the service answered relative to itself. */
    absoluteUrl(url) {
      if (!url) return ''
      return /^https?:\/\//.test(url) ? url : base() + url
    },

    // -- sign-in ---------------------------------------------------------------------
    /** 居民: the code of `wx.login()`. */
    signInWechat: code => signIn('/auth/wechat', { code }),
    /** 工作人员: 网格员, 支部书记, 党员, 镇管理员. */
    signInStaff: (phone, password) => signIn('/auth/staff', { phone, password }),
    /** A development server's resident sign-in without WeChat (404 elsewhere). */
    signInDevResident: openid => signIn('/auth/dev/resident', { openid }),
    async signOut() {
      const token = session.refreshToken()
      session.clear()
      if (token) await call('POST', '/auth/logout', { body: { refresh_token: token }, auth: false }).catch(() => null)
    },

    // -- who am I --------------------------------------------------------------------
    me: () => get('/me'),
    /** `{ name?, phone?, phone_code?, grid_id? }`; a `phone_code` from the getPhoneNumber button links orders placed for that phone. */
    updateProfile: profile => data(call('PUT', '/me/profile', { body: profile })),

    // -- the town's choices (no sign-in needed) --------------------------------------
    towns: () => get('/towns', null, { auth: false }),
    grids: townId => get(`/towns/${townId}/grids`, { limit: 100 }, { auth: false }),
    categories: townId => get(`/towns/${townId}/categories`, { limit: 100 }, { auth: false }),
    board: (townId, paging) => get(`/public/towns/${townId}/board`, paging, { auth: false }),
    /**
     * What the forms follow: `{ town, photos_per_order, photo_max_bytes, subscribe_template_ids,
     * public_board_enabled, nearby_radius_m, urgency_labels }` (read it through utils/client-config.js).
     */
    clientConfig: townId => get(`/towns/${townId}/client-config`, null, { auth: false }),

    // -- orders ----------------------------------------------------------------------
    /**
     * 群众点单 / 代点单. The same `idempotencyKey` for a retry returns the order the
     * first attempt placed instead of placing a second one.
     * @returns {Promise<{ order: any, replayed: boolean }>}
     */
    async placeOrder(draft, { idempotencyKey } = {}) {
      const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}
      const answer = await call('POST', '/orders', { body: draft, headers })
      return { order: answer.data, replayed: answer.headers['idempotent-replayed'] === 'true' }
    },
    /** @param {{ state?: string | string[], overdue?: boolean, sort?: string, grid_id?: number } & Paging} [filters] */
    orders: filters => get('/orders', filters),
    todo: paging => get('/orders/todo', paging),
    /**
     * "Me too": open orders of the category near the point, nearest first:
     * `{ radius_m, days, items: [{ id, state_label, summary, distance_m, follower_count, mine, following, … }] }`.
     */
    nearby: (categoryId, latitude, longitude) =>
      get('/orders/nearby', { category_id: categoryId, latitude, longitude }),
    /** Follow another resident's open order from near it; answers the order as the follower sees it. */
    follow: (id, latitude, longitude) => post(`/orders/${id}/follow`, { latitude, longitude }),
    unfollow: id => call('DELETE', `/orders/${id}/follow`).then(() => null),
    order: id => get(`/orders/${id}`),
    claim: id => post(`/orders/${id}/claim`),
    transfer: (id, gridId, reason) => post(`/orders/${id}/transfer`, { grid_id: gridId, reason }),
    /** 不予受理; with `duplicateOfId`, as a duplicate of that open order (its placer then follows it). */
    reject: (id, reason, duplicateOfId) =>
      post(`/orders/${id}/reject`, duplicateOfId ? { reason, duplicate_of_id: duplicateOfId } : { reason }),
    cancel: (id, reason) => post(`/orders/${id}/cancel`, reason ? { reason } : {}),
    dispatchSuggestions: id => get(`/orders/${id}/dispatch-suggestions`),
    dispatch: (id, memberId, note) => post(`/orders/${id}/dispatch`, note ? { member_id: memberId, note } : { member_id: memberId }),
    accept: id => post(`/orders/${id}/accept`),
    decline: (id, reason) => post(`/orders/${id}/decline`, { reason }),
    complete: (id, note, photoIds) => post(`/orders/${id}/complete`, { note, photo_ids: photoIds }),
    rate: (id, stars, comment) => post(`/orders/${id}/rate`, comment ? { stars, comment } : { stars }),
    branchMembers: () => get('/branch/members', { limit: 100 }),

    // -- photos ----------------------------------------------------------------------
    /**
     * Upload one image (multipart field `file`).
     * @param {string} filePath a temporary path from wx.chooseMedia
     * @param {(percent: number) => void} [onProgress]
     * @returns {Promise<{ id: string, url: string, url_expires_at: string }>}
     */
    async uploadPhoto(filePath, onProgress) {
      const attempt = () => transport.upload({
        url: base() + '/photos', headers: headersFor(true, {}), filePath, name: 'file', onProgress,
      }).catch(err => {
        throw networkError(err)
      })
      let answer = await attempt()
      if (answer.status === 401 && session.refreshToken() && (await refresh())) answer = await attempt()
      if (answer.status === 201 || answer.status === 200) return answer.data
      throw fromAnswer(answer.status, answer.data, answer.headers)
    },

    // -- inbox -----------------------------------------------------------------------
    inbox: filters => get('/me/inbox', filters),
    unreadCount: () => get('/me/inbox/unread-count').then(body => body.unread),
    markRead: id => call('POST', `/me/inbox/${id}/read`).then(() => null),
    markAllRead: () => post('/me/inbox/read-all'),
  }
}

module.exports = { createApi, queryString }
