/**
 * The API client and session every page uses: utils/api.js over wx.request, the
 * session in wx storage, the server from config.js; and the town's client config
 * (utils/client-config.js) read through that client.
 */
const config = require('../config')
const { createApi } = require('./api')
const { createClientConfig } = require('./client-config')
const { createSession } = require('./session')
const { wxStorage } = require('./storage')
const { wxTransport } = require('./transport')

const session = createSession(wxStorage())
const api = createApi({ baseUrl: () => config.baseUrl(), transport: wxTransport, session })

const clientConfig = createClientConfig(api)

/** The client config of the caller's town (from /me), or of config.townId for nobody signed in. */
function townOf(me) {
  return me && me.town ? me.town.id : config.townId
}

module.exports = { api, session, clientConfig, townOf }
