/**
 * The API module's transport over node's fetch, for the contract tests: the same
 * contract as utils/transport.js gives over wx.request and wx.uploadFile.
 */
const fs = require('fs')
const path = require('path')

async function answerOf(response) {
  const headers = {}
  response.headers.forEach((value, key) => {
    headers[key.toLowerCase()] = value
  })
  const text = await response.text()
  let data = text
  try {
    data = text ? JSON.parse(text) : null
  } catch (err) {
    // not JSON: keep the text, as wx.request does
  }
  return { status: response.status, headers, data }
}

const MEDIA_TYPES = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' }

/** @type {import('../../utils/api').Transport} */
const nodeTransport = {
  async request({ method, url, headers, data }) {
    const response = await fetch(url, {
      method,
      headers,
      // wx.request sends a JSON body for POST / PUT and query parameters for GET.
      body: data === undefined || method === 'GET' ? undefined : JSON.stringify(data),
      redirect: 'manual',
    })
    return answerOf(response)
  },

  async upload({ url, headers, filePath, name, onProgress }) {
    const form = new FormData()
    const bytes = fs.readFileSync(filePath)
    const type = MEDIA_TYPES[path.extname(filePath).toLowerCase()] || 'application/octet-stream'
    form.append(name, new Blob([bytes], { type }), path.basename(filePath))
    const response = await fetch(url, { method: 'POST', headers, body: form })
    // fetch reports no upload progress; report the end, as wx.uploadFile's last event does.
    if (onProgress) onProgress(100)
    return answerOf(response)
  },
}

module.exports = { nodeTransport }
