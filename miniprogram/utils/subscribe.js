/**
 * The resident's consent to WeChat subscribe messages (订阅消息) about their order.
 *
 * WeChat shows the consent dialog only from a tap, so this must be called in the tap
 * handler before anything is awaited. Each accepted template lets the service send one
 * message; refusing changes nothing else — the in-app inbox still gets every notice.
 */

/**
 * @param {string[]} templateIds the service's template ids; none means skip
 * @returns {Promise<{ asked: boolean, accepted: string[] }>}
 */
function askConsent(templateIds) {
  const ids = (templateIds || []).filter(Boolean).slice(0, 3) // WeChat allows three per dialog
  if (!ids.length || typeof wx.requestSubscribeMessage !== 'function') {
    return Promise.resolve({ asked: false, accepted: [] })
  }
  return new Promise(resolve => {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: res => resolve({ asked: true, accepted: ids.filter(id => res[id] === 'accept') }),
      fail: () => resolve({ asked: true, accepted: [] }),
    })
  })
}

module.exports = { askConsent }
