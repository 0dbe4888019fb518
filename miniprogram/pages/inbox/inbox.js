/**
 * The in-app inbox: what the service told this person about their orders (领单, 派单,
 * 催办, 督办, please rate …), newest first. Opening one marks it read and shows its order.
 */
const { api } = require('../../utils/app-api')
const { createPager } = require('../../utils/paging')
const { messageOf } = require('../../utils/errors')
const { shortTime } = require('../../utils/time')

const itemView = item => ({ ...item, at: shortTime(item.created_at) })

Component({
  data: { items: [], total: 0, unread: 0, hasMore: false, error: '' },
  methods: {
    async onLoad() {
      this.pager = createPager(paging => api.inbox(paging))
      await this.reload()
    },
    async reload() {
      await this.load(() => this.pager.refresh())
    },
    async load(how) {
      try {
        const [{ items, total, hasMore }, unread] = await Promise.all([how(), api.unreadCount()])
        this.setData({ items: items.map(itemView), total, hasMore, unread, error: '' })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    async onPullDownRefresh() {
      await this.reload()
      wx.stopPullDownRefresh()
    },
    async onReachBottom() {
      if (this.data.hasMore) await this.load(() => this.pager.more())
    },
    async onOpen(event) {
      const item = this.data.items.find(i => i.id === Number(event.currentTarget.dataset.id))
      if (!item.read) {
        try {
          await api.markRead(item.id)
          this.setData({
            items: this.data.items.map(i => (i.id === item.id ? { ...i, read: true } : i)),
            unread: Math.max(0, this.data.unread - 1),
          })
        } catch (err) {
          this.setData({ error: messageOf(err) })
        }
      }
      if (item.order_id) wx.navigateTo({ url: `/pages/order-detail/order-detail?id=${item.order_id}` })
    },
    async onReadAll() {
      try {
        const { unread } = await api.markAllRead()
        this.setData({ items: this.data.items.map(i => ({ ...i, read: true })), unread })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
  },
})
