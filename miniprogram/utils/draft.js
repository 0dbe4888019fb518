/**
 * The order being written, kept in storage until the service has answered it.
 *
 * Its Idempotency-Key is made once, when the draft starts, and kept with it: a submit
 * whose answer was lost (the phone went out of coverage, the app was closed) is sent
 * again with the same key, and the service answers the order it already placed
 * instead of placing a second one. Only a placed order ends the draft.
 */

function newKey() {
  const random = () => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0')
  return `mp-${Date.now().toString(36)}-${random()}${random()}${random()}`
}

/**
 * @param {import('./storage').Storage} storage
 * @param {string} name one draft per form (a resident's order, a grid worker's 代点单)
 */
function createDraftStore(storage, name) {
  const key = `wudan.draft.${name}`
  return {
    /** The draft left from before, or a new one with its own key. */
    open() {
      const kept = storage.get(key)
      if (kept && kept.idempotencyKey) return kept
      const draft = { idempotencyKey: newKey(), fields: {}, photos: [] }
      storage.set(key, draft)
      return draft
    },
    save(draft) {
      storage.set(key, draft)
    },
    /** The order is placed: the next draft gets a new key. */
    finish() {
      storage.remove(key)
    },
  }
}

module.exports = { createDraftStore, newKey }
