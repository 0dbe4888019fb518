/**
 * 支部派单: the secretary picks the member who will do the work. The service ranks the
 * branch's members for this order (/orders/{id}/dispatch-suggestions): paired with the
 * household, leading its building's party group, how much they hold now, their last
 * 90 days; the reasons are shown with each so the choice can be explained.
 */
const { api } = require('../../utils/app-api')
const { messageOf } = require('../../utils/errors')

Component({
  data: { id: null, order: null, household: null, members: [], chosen: null, note: '', busy: false, error: '' },
  methods: {
    async onLoad(query) {
      const id = Number(query.id)
      this.setData({ id })
      try {
        const [order, suggestions] = await Promise.all([api.order(id), api.dispatchSuggestions(id)])
        this.setData({
          order,
          household: suggestions.household,
          members: suggestions.items.map((item, rank) => ({
            id: item.member.id,
            name: item.member.name,
            localWorthy: item.is_local_worthy,
            score: item.score,
            best: rank === 0,
            reasons: item.reasons.map(reason => `${reason.label} ${reason.value}（${reason.weight >= 0 ? '+' : ''}${reason.weight}）`).join('；'),
          })),
        })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    onChoose(event) {
      this.setData({ chosen: Number(event.currentTarget.dataset.id), error: '' })
    },
    onNote(event) {
      this.setData({ note: event.detail.value })
    },
    async onDispatch() {
      const { id, chosen, note, busy } = this.data
      if (busy) return
      if (!chosen) return this.setData({ error: '请选择承办党员' })
      this.setData({ busy: true, error: '' })
      try {
        const order = await api.dispatch(id, chosen, note.trim())
        wx.showToast({ title: `已派给${order.assignee.name}`, icon: 'none' })
        wx.navigateBack()
      } catch (err) {
        this.setData({ error: messageOf(err) })
      } finally {
        this.setData({ busy: false })
      }
    },
  },
})
