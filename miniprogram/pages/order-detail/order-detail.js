/**
 * One order, for whoever may see it: its state, what was asked, the member's 晒单
 * (note and evidence photos), the rating, and the timeline.
 *
 * The buttons are the order's `allowed_actions` — what the service says this person
 * may do now — so the page never offers a move the service would refuse. Claim and
 * accept are sent at once; transfer, reject, decline and cancel ask for a reason
 * first — a reject may name the order it duplicates (重复工单), whose follower its
 * placer then becomes; rating opens the stars; dispatch and complete have their own pages.
 *
 * An order the resident follows ("me too", another resident's) is marked 「关注」, has no
 * buttons but 取消关注; a duplicate links to its original.
 */
const { api, session } = require('../../utils/app-api')
const { messageOf } = require('../../utils/errors')
const { ACTION_LABELS, ACTIONS_WITH_REASON } = require('../../utils/labels')
const { shortTime, overdueText } = require('../../utils/time')

const PAGES = {
  dispatch: id => `/pages/dispatch/dispatch?id=${id}`,
  complete: id => `/pages/complete/complete?id=${id}`,
}
const REASON_PROMPTS = {
  transfer: '转交原因（如：不属于本网格）',
  reject: '不予受理的原因（如：不属于受理范围；重复诉求请勾选「重复工单」）',
  decline: '退回原因（如：本周不在村里）',
  cancel: '撤单原因（可不填）',
}

function photoView(photo) {
  return { id: photo.id, url: api.absoluteUrl(photo.url) }
}

Component({
  data: {
    id: null, order: null, view: null, actions: [], pending: '', reason: '', reasonPrompt: '',
    grids: [], gridIndex: -1, duplicate: false, duplicateOf: '', stars: 0, comment: '', callback: false, busy: false, error: '',
  },
  methods: {
    onLoad(query) {
      this.setData({ id: Number(query.id) })
    },
    async onShow() {
      await this.reload()
    },
    async onPullDownRefresh() {
      await this.reload()
      wx.stopPullDownRefresh()
    },
    async reload() {
      try {
        this.show(await api.order(this.data.id))
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    show(order) {
      const photos = order.photos || []
      const person = session.person()
      this.setData({
        order,
        view: {
          urgency: order.urgency_label,
          channel: !order.placed_on_behalf && order.channel !== 'mini_program' ? order.channel_label : '',
          overdue: overdueText(order),
          deadline: order.stage_deadline ? shortTime(order.stage_deadline) : '',
          placedAt: shortTime(order.created_at),
          requestPhotos: photos.filter(p => p.purpose !== 'evidence').map(photoView),
          evidencePhotos: photos.filter(p => p.purpose === 'evidence').map(photoView),
          completedBy: order.assignee ? order.assignee.name : '',
        },
        actions: (order.allowed_actions || [])
          .filter(action => ACTION_LABELS[action])
          .map(action => ({ action, label: ACTION_LABELS[action] })),
        callback: !!(person && person.kind === 'staff'),
        pending: '',
        reason: '',
        error: '',
      })
    },
    async onAction(event) {
      const action = event.currentTarget.dataset.action
      if (PAGES[action]) {
        wx.navigateTo({ url: PAGES[action](this.data.id) })
        return
      }
      if (action === 'rate') {
        this.setData({ pending: 'rate', stars: 0, comment: '' })
        return
      }
      if (ACTIONS_WITH_REASON.includes(action)) {
        this.setData({ pending: action, reason: '', reasonPrompt: REASON_PROMPTS[action], duplicate: false, duplicateOf: '' })
        if (action === 'transfer') await this.loadGrids()
        return
      }
      await this.move(() => api[action](this.data.id))
    },
    async loadGrids() {
      try {
        const me = await api.me()
        const grids = (await api.grids(me.town.id)).items.filter(grid => grid.id !== this.data.order.grid.id)
        this.setData({ grids, gridIndex: -1 })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    onReason(event) {
      this.setData({ reason: event.detail.value })
    },
    onDuplicate() {
      this.setData({ duplicate: !this.data.duplicate, error: '' })
    },
    onDuplicateOf(event) {
      this.setData({ duplicateOf: event.detail.value })
    },
    onGrid(event) {
      this.setData({ gridIndex: Number(event.detail.value) })
    },
    onStars(event) {
      this.setData({ stars: event.detail.value })
    },
    onComment(event) {
      this.setData({ comment: event.detail.value })
    },
    onDismiss() {
      this.setData({ pending: '', error: '' })
    },
    async onConfirm() {
      const { pending, id, grids, gridIndex, stars, comment } = this.data
      const reason = this.data.reason.trim()
      if (pending === 'rate') {
        if (!stars) return this.setData({ error: '请选择星级' })
        return this.move(() => api.rate(id, stars, comment.trim()))
      }
      if (pending !== 'cancel' && !reason) return this.setData({ error: '请填写原因' })
      if (pending === 'transfer') {
        if (gridIndex < 0) return this.setData({ error: '请选择转交的网格' })
        return this.move(() => api.transfer(id, grids[gridIndex].id, reason))
      }
      if (pending === 'reject' && this.data.duplicate) {
        const text = this.data.duplicateOf.trim().replace(/^#/, '')
        const original = /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : 0
        if (!original) return this.setData({ error: '请填写原工单编号' })
        if (original === id) return this.setData({ error: '不能是本工单自己的编号' })
        return this.move(() => api.reject(id, reason, original))
      }
      return this.move(() => api[pending](id, reason))
    },
    async move(send) {
      if (this.data.busy) return
      this.setData({ busy: true, error: '' })
      try {
        const order = await send()
        wx.showToast({ title: `已${order.state_label}`, icon: 'none' })
        // The answer of a move is the order without its timeline; read it whole.
        await this.reload()
      } catch (err) {
        this.setData({ error: messageOf(err) })
        // A 409 means the order moved meanwhile (someone else claimed it): show it as it is now.
        if (err.status === 409) await this.reload().then(() => this.setData({ error: messageOf(err) }))
      } finally {
        this.setData({ busy: false })
      }
    },
    /** 取消关注: the order is another resident's, so it is out of sight afterwards. */
    async onUnfollow() {
      if (this.data.busy) return
      this.setData({ busy: true, error: '' })
      try {
        await api.unfollow(this.data.id)
        wx.showToast({ title: '已取消关注', icon: 'none' })
        wx.navigateBack()
      } catch (err) {
        this.setData({ error: messageOf(err) })
      } finally {
        this.setData({ busy: false })
      }
    },
    onOriginal() {
      wx.navigateTo({ url: `/pages/order-detail/order-detail?id=${this.data.order.duplicate_of_id}` })
    },
    onPreview(event) {
      const { url, group } = event.currentTarget.dataset
      wx.previewImage({ current: url, urls: this.data.view[group].map(photo => photo.url) })
    },
    /** Signed photo URLs expire (PHOTO_URL_SECONDS); reading the order again gives fresh ones. */
    async onImageError() {
      const now = Date.now()
      if (this.refreshedAt && now - this.refreshedAt < 60000) return
      this.refreshedAt = now
      await this.reload()
    },
  },
})
