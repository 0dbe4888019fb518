/**
 * Where the mini-program finds the wudan service. Everything else it needs to know (the
 * photo limit, the subscribe templates, the board switch, the urgency words) the service
 * publishes at /towns/{id}/client-config (utils/client-config.js).
 *
 * WeChat only lets a released mini-program call HTTPS domains listed in its admin
 * console (开发管理 → 服务器域名), so `release` and `trial` need a real domain; the
 * `develop` entry is what WeChat DevTools uses (tick 「不校验合法域名」 for a LAN address).
 */
const SERVERS = {
  develop: 'http://127.0.0.1:8000',
  trial: 'https://wudan.example.gov.cn',
  release: 'https://wudan.example.gov.cn',
}

/** @returns {'develop' | 'trial' | 'release'} */
function envVersion() {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion || 'develop'
  } catch (err) {
    return 'develop' // outside WeChat (tests) there is no account info
  }
}

module.exports = {
  baseUrl() {
    return SERVERS[envVersion()] || SERVERS.develop
  },
  // The town whose categories and 晒单 board a resident sees before signing in; after
  // sign-in the town comes from /me.
  townId: 1,
}
