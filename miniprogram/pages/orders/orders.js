/**
 * Lists of orders, read a page at a time (pull down to refresh, scroll to the end for
 * more):
 * - `mode=mine`: a resident's orders, newest first, with tabs by state;
 * - `mode=todo`: what waits on the caller (/orders/todo, most overdue first) — 待领单
 *   for a grid worker, 待派单 for a secretary, 我的任务 for a member, 待评价 for a resident;
 * - `mode=callback`: a grid worker's completed orders, where those placed on a
 *   resident's behalf wait for the callback rating (回访);
 * - `mode=all`: every order the caller may see.
 */
const { api, session } = require('../../utils/app-api')
const { createPager } = require('../../utils/paging')
const { messageOf } = require('../../utils/errors')
const { TODO_TITLES } = require('../../utils/labels')

// The resident's tabs: the states each shows.
const TABS = [
  { key: 'all', title: '全部', state: null },
  { key: 'open', title: '办理中', state: ['submitted', 'claimed', 'dispatched', 'whistled', 'in_progress'] },
  { key: 'rate', title: '待评价', state: ['completed'] },
  { key: 'done', title: '已结束', state: ['closed', 'rejected', 'cancelled'] },
]

function titleFor(mode, role) {
  if (mode === 'todo') return TODO_TITLES[role] || '待办'
  if (mode === 'callback') return '待回访'
  if (mode === 'mine') return '我的工单'
  return '工单'
}

Component({
  data: { mode: 'mine', title: '', tabs: TABS, tab: 'all', items: [], total: 0, hasMore: false, loading: false, error: '' },
  methods: {
    async onLoad(query) {
      const mode = query.mode || 'mine'
      const person = session.person()
      const title = titleFor(mode, person && person.role)
      this.setData({ mode, title })
      wx.setNavigationBarTitle({ title })
      this.pager = createPager(paging => this.fetch(paging))
      await this.reload()
    },
    fetch(paging) {
      const { mode, tab } = this.data
      if (mode === 'todo') return api.todo(paging)
      if (mode === 'callback') return api.orders({ state: 'completed', sort: 'oldest', ...paging })
      if (mode === 'mine') {
        const state = TABS.find(t => t.key === tab).state
        return api.orders({ state, sort: 'newest', ...paging })
      }
      return api.orders({ sort: 'newest', ...paging })
    },
    async reload() {
      await this.load(() => this.pager.refresh())
    },
    async load(how) {
      this.setData({ loading: true })
      try {
        const { items, total, hasMore } = await how()
        this.setData({ items, total, hasMore, error: '' })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      } finally {
        this.setData({ loading: false })
      }
    },
    async onPullDownRefresh() {
      await this.reload()
      wx.stopPullDownRefresh()
    },
    async onReachBottom() {
      if (this.data.hasMore) await this.load(() => this.pager.more())
    },
    async onTab(event) {
      this.setData({ tab: event.currentTarget.dataset.key })
      await this.reload()
    },
    onOpen(event) {
      wx.navigateTo({ url: `/pages/order-detail/order-detail?id=${event.detail.id}` })
    },
  },
})
