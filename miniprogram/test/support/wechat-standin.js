/**
 * A stand-in for the WeChat server API that wudan calls, on a loopback socket, for the
 * contract tests (the same answers as the Python tests' tests/wechat_standin.py):
 *
 * - GET /sns/jscode2session: a login code `code-<openid>` answers that openid, any
 *   other code `openid-of-<code>`; a wrong appid or secret answers 40013 / 40125;
 * - POST /cgi-bin/stable_token: an access token;
 * - POST /wxa/business/getuserphonenumber: a phone code `phone-<digits>` answers that
 *   number, any other 40029;
 * - POST /cgi-bin/message/subscribe/send: ok.
 *
 * Answers are derived from the codes, not scripted, because the stand-in runs in jest's
 * global setup and the tests run in other processes. GET /__calls lists what wudan
 * asked, so a test can check that a sign-in really went through WeChat.
 */
const http = require('http')

function startWeChatStandIn({ appid, secret }) {
  const calls = []
  let tokenSerial = 0
  const tokens = new Set()

  const answer = (method, path, query, body) => {
    if (method === 'GET' && path === '/sns/jscode2session') {
      if (query.get('appid') !== appid) return { errcode: 40013, errmsg: 'invalid appid' }
      if (query.get('secret') !== secret) return { errcode: 40125, errmsg: 'invalid appsecret' }
      if (query.get('grant_type') !== 'authorization_code') return { errcode: 40002, errmsg: 'invalid grant_type' }
      const code = query.get('js_code') || ''
      const openid = code.startsWith('code-') ? code.slice(5) : `openid-of-${code}`
      // Success has no errcode key, as WeChat answers it.
      return { openid, session_key: `sk-${calls.length}`, unionid: `union-${openid}` }
    }
    if (method === 'POST' && path === '/cgi-bin/stable_token') {
      if (body.appid !== appid || body.secret !== secret) return { errcode: 40125, errmsg: 'invalid appsecret' }
      tokenSerial += 1
      const token = `token-${tokenSerial}`
      tokens.add(token)
      return { access_token: token, expires_in: 7200 }
    }
    if (method === 'POST' && path === '/wxa/business/getuserphonenumber') {
      if (!tokens.has(query.get('access_token'))) return { errcode: 40001, errmsg: 'invalid credential' }
      const code = body.code || ''
      if (!/^phone-[0-9]{5,15}$/.test(code)) return { errcode: 40029, errmsg: 'invalid code' }
      const phone = code.slice(6)
      return {
        errcode: 0, errmsg: 'ok',
        phone_info: { phoneNumber: `+86${phone}`, purePhoneNumber: phone, countryCode: '86', watermark: { timestamp: 1700000000, appid } },
      }
    }
    if (method === 'POST' && path === '/cgi-bin/message/subscribe/send') {
      if (!tokens.has(query.get('access_token'))) return { errcode: 40001, errmsg: 'invalid credential' }
      return { errcode: 0, errmsg: 'ok', msgid: calls.length }
    }
    return null
  }

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', chunk => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url, 'http://127.0.0.1')
      const raw = Buffer.concat(chunks).toString('utf8')
      let body = {}
      try {
        body = raw ? JSON.parse(raw) : {}
      } catch (err) {
        body = { unparsed: raw }
      }
      let payload
      if (req.method === 'GET' && url.pathname === '/__calls') {
        payload = calls
      } else {
        calls.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body })
        payload = answer(req.method, url.pathname, url.searchParams, body)
      }
      const status = payload ? 200 : 404
      const data = Buffer.from(JSON.stringify(payload || { errcode: 404, errmsg: 'no such api in the stand-in' }))
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length })
      res.end(data)
    })
  })

  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({
        url: `http://127.0.0.1:${port}`,
        stop: () => new Promise(done => server.close(() => done())),
      })
    })
  })
}

module.exports = { startWeChatStandIn }
