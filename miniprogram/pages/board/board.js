/**
 * The public 晒单 board: the town's finished work, newest first, with the member who
 * did it, their note and photos, and the stars given. It names no resident; anyone
 * may read it, signed in or not, when the town has turned it on (`public_board_enabled`
 * of its client config; the board itself answers 404 for a town without it).
 */
const config = require('../../config')
const { api, clientConfig } = require('../../utils/app-api')
const { createPager } = require('../../utils/paging')
const { messageOf } = require('../../utils/errors')
const { shortTime } = require('../../utils/time')

function itemView(item) {
  return {
    id: item.id,
    category: item.category.name,
    grid: item.grid.name,
    branch: item.branch.name,
    member: item.member ? item.member.name : '',
    note: item.completion_note || '',
    completedAt: shortTime(item.completed_at),
    stateLabel: item.state_label,
    stars: item.rating && item.rating.stars ? '★'.repeat(item.rating.stars) : '',
    photos: item.photos.map(photo => ({ id: photo.id, url: api.absoluteUrl(photo.url) })),
  }
}

Component({
  data: { items: [], total: 0, hasMore: false, closed: false, error: '' },
  methods: {
    async onLoad(query) {
      const townId = Number(query.town) || config.townId
      this.pager = createPager(paging => api.board(townId, paging))
      const open = await clientConfig(townId).then(town => town.boardEnabled, () => true)
      if (!open) return this.setData({ closed: true })
      await this.load(() => this.pager.refresh())
    },
    async load(how) {
      try {
        const { items, total, hasMore } = await how()
        this.setData({ items: items.map(itemView), total, hasMore, error: '' })
      } catch (err) {
        // A town without the board answers 404, like a town that does not exist.
        if (err.status === 404) this.setData({ closed: true })
        else this.setData({ error: messageOf(err) })
      }
    },
    async onPullDownRefresh() {
      if (!this.data.closed) await this.load(() => this.pager.refresh())
      wx.stopPullDownRefresh()
    },
    async onReachBottom() {
      if (this.data.hasMore) await this.load(() => this.pager.more())
    },
    onPreview(event) {
      const { url, item } = event.currentTarget.dataset
      const shown = this.data.items.find(i => i.id === item)
      wx.previewImage({ current: url, urls: shown.photos.map(p => p.url) })
    },
  },
})
