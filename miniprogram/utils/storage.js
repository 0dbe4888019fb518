/**
 * Key-value storage behind one small interface, so the session and drafts work on
 * wx storage in the app and on a Map in node.
 *
 * @typedef {{ get(key: string): any, set(key: string, value: any): void, remove(key: string): void }} Storage
 */

/** @returns {Storage} */
function wxStorage() {
  return {
    get(key) {
      const value = wx.getStorageSync(key)
      return value === '' ? null : value // wx answers '' for a missing key
    },
    set(key, value) {
      wx.setStorageSync(key, value)
    },
    remove(key) {
      wx.removeStorageSync(key)
    },
  }
}

/** @returns {Storage} */
function memoryStorage() {
  const values = new Map()
  return {
    get: key => (values.has(key) ? values.get(key) : null),
    set: (key, value) => values.set(key, value),
    remove: key => values.delete(key),
  }
}

module.exports = { wxStorage, memoryStorage }
