/**
 * Starts the WeChat stand-in and the real wudan service once for every contract test
 * file and builds their town; the files read where the server is and the town's ids
 * from the environment (jest's workers are started after this and inherit it).
 */
const { startWeChatStandIn } = require('../support/wechat-standin')
const { startWudan, WECHAT, ADMIN } = require('./server')
const { buildTown } = require('./town')

module.exports = async function globalSetup() {
  const wechat = await startWeChatStandIn(WECHAT)
  let wudan
  try {
    wudan = await startWudan({ wechatApiBase: wechat.url })
    globalThis.__WUDAN_CONTRACT__ = { wechat, wudan }
    process.env.WUDAN_TOWN = JSON.stringify(await buildTown(wudan.baseUrl, ADMIN))
  } catch (err) {
    if (wudan) await wudan.stop()
    await wechat.stop()
    throw err
  }
  process.env.WUDAN_BASE_URL = wudan.baseUrl
  process.env.WECHAT_STANDIN_URL = wechat.url
}
