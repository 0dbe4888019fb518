/**
 * Who is signed in on this phone: the tokens of the last sign-in and what they say
 * about the person (kind, role), kept in storage so the app reopens signed in.
 *
 * The service's refresh tokens are single use, so every refresh must be saved before
 * anything else reads the session again.
 */
const KEY = 'wudan.session'

/**
 * @param {import('./storage').Storage} storage
 */
function createSession(storage) {
  const read = () => storage.get(KEY)

  return {
    /** @returns {string | null} */
    accessToken() {
      const state = read()
      return state ? state.accessToken : null
    },
    /** @returns {string | null} */
    refreshToken() {
      const state = read()
      return state ? state.refreshToken : null
    },
    /** @returns {{ kind: string, role: string, userId: number } | null} */
    person() {
      const state = read()
      return state ? { kind: state.kind, role: state.role, userId: state.userId } : null
    },
    /** Save a `TokenOut` answer of /auth/*. */
    save(tokens) {
      const before = read() || {}
      storage.set(KEY, {
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token || before.refreshToken || null,
        kind: tokens.kind || before.kind,
        role: tokens.role || before.role,
        userId: tokens.user_id || before.userId,
      })
    },
    clear() {
      storage.remove(KEY)
    },
  }
}

module.exports = { createSession }
