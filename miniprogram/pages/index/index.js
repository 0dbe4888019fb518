/**
 * Home: who is signed in and the entries of their role (晒单墙 where the town's client
 * config has the board on); the unread badge on 消息.
 * Nobody signed in goes to the sign-in page; a resident without a complete profile
 * (name, grid) goes to it first, since an order needs the grid they live in.
 */
const { api, session, clientConfig, townOf } = require('../../utils/app-api')
const { entriesFor } = require('../../utils/nav')
const { messageOf } = require('../../utils/errors')

Component({
  data: { me: null, entries: [], unread: 0, error: '' },
  methods: {
    async onShow() {
      if (!session.accessToken()) {
        wx.redirectTo({ url: '/pages/login/login' })
        return
      }
      try {
        const me = await api.me()
        if (me.kind === 'resident' && !me.profile_complete) {
          wx.redirectTo({ url: '/pages/profile/profile?first=1' })
          return
        }
        const [unread, boardEnabled] = await Promise.all([
          api.unreadCount(),
          // Unread config: keep the entry, and let the board page say whether it is open.
          clientConfig(townOf(me)).then(town => town.boardEnabled, () => true),
        ])
        this.setData({ me, entries: entriesFor(me.role, { boardEnabled }), unread, error: '' })
      } catch (err) {
        if (err.status === 401) {
          wx.redirectTo({ url: '/pages/login/login' })
          return
        }
        this.setData({ error: messageOf(err) })
      }
    },
    onOpen(event) {
      wx.navigateTo({ url: event.currentTarget.dataset.url })
    },
    async onSignOut() {
      await api.signOut()
      wx.reLaunch({ url: '/pages/login/login' })
    },
  },
})
