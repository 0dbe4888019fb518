/**
 * The API module's transport over the mini-program's network calls.
 *
 * `wx.request` calls `success` for any HTTP status (4xx and 5xx too) and `fail` only
 * when no answer arrived, which is the contract utils/api.js expects.
 * `wx.uploadFile` answers its body as a string, so it is parsed here.
 */

function lowerCaseKeys(headers) {
  const lowered = {}
  Object.keys(headers || {}).forEach(key => {
    lowered[key.toLowerCase()] = String(headers[key])
  })
  return lowered
}

function parseJson(text) {
  if (typeof text !== 'string') return text
  try {
    return JSON.parse(text)
  } catch (err) {
    return text
  }
}

/** @type {import('./api').Transport} */
const wxTransport = {
  request({ method, url, headers, data }) {
    return new Promise((resolve, reject) => {
      wx.request({
        url,
        method,
        header: headers,
        data,
        dataType: 'json',
        timeout: 15000,
        success: res => resolve({ status: res.statusCode, headers: lowerCaseKeys(res.header), data: parseJson(res.data) }),
        fail: reject,
      })
    })
  },

  upload({ url, headers, filePath, name, onProgress }) {
    return new Promise((resolve, reject) => {
      const task = wx.uploadFile({
        url,
        filePath,
        name,
        header: headers,
        timeout: 60000,
        success: res => resolve({ status: res.statusCode, headers: lowerCaseKeys(res.header), data: parseJson(res.data) }),
        fail: reject,
      })
      if (onProgress && task && task.onProgressUpdate) task.onProgressUpdate(res => onProgress(res.progress))
    })
  },
}

module.exports = { wxTransport, parseJson, lowerCaseKeys }
