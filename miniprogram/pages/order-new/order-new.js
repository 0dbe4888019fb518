/**
 * 群众点单, and 代点单 (`?behalf=1`) for a grid worker or member placing an order for a
 * resident met on a visit or on the phone.
 *
 * The form is a draft kept in storage (utils/draft.js) with its Idempotency-Key, so a
 * submit whose answer was lost is sent again as the same order, and a form left half
 * written is still there when the page is opened again. The answers to the category's
 * own questions (utils/attributes.js) are part of the draft.
 *
 * The limits come from the town's client config: how many photos, how large, which
 * subscribe templates to ask consent for, the urgency words.
 *
 * "Me too": once a resident has a category and a location, the open orders of that
 * category nearby are shown; following one (我也遇到了) opens it instead of placing the
 * same order again. The resident may still place their own.
 */
const { api, clientConfig, townOf } = require('../../utils/app-api')
const { createDraftStore } = require('../../utils/draft')
const { wxStorage } = require('../../utils/storage')
const { messageOf } = require('../../utils/errors')
const { askConsent } = require('../../utils/subscribe')
const { CHANNEL_CHOICES } = require('../../utils/labels')
const { questionsOf, problemOf, answersToSend, datetimeAnswer, datetimeParts } = require('../../utils/attributes')

const EMPTY_FIELDS = {
  categoryId: null, description: '', urgency: '', address: '', latitude: null, longitude: null,
  gridId: null, contactName: '', contactPhone: '', channel: 'visit', attributes: {},
}

function nearbyView(item) {
  return {
    id: item.id,
    summary: item.summary,
    stateLabel: item.state_label,
    distance: Math.round(item.distance_m),
    followers: item.follower_count,
    mine: item.mine,
    following: item.following,
  }
}

Component({
  data: {
    behalf: false,
    categories: [],
    categoryIndex: -1,
    questions: [],
    grids: [],
    gridIndex: -1,
    urgencies: [],
    channels: CHANNEL_CHOICES,
    fields: EMPTY_FIELDS,
    initialPhotos: [],
    photoIds: [],
    uploading: false,
    maxPhotos: 0,
    photoMaxBytes: 0,
    nearby: [],
    submitting: false,
    following: false,
    error: '',
  },
  methods: {
    async onLoad(query) {
      const behalf = query.behalf === '1'
      this.drafts = createDraftStore(wxStorage(), behalf ? 'behalf' : 'order')
      this.draft = this.drafts.open()
      const fields = { ...EMPTY_FIELDS, ...this.draft.fields }
      this.templateIds = []
      this.setData({
        behalf,
        fields,
        initialPhotos: this.draft.photos,
        photoIds: this.draft.photos.filter(p => p.id).map(p => p.id),
      })
      if (behalf) wx.setNavigationBarTitle({ title: '代点单' })
      try {
        const me = await api.me()
        const townId = townOf(me)
        const [categories, town, grids] = await Promise.all([
          api.categories(townId).then(page => page.items),
          clientConfig(townId),
          behalf ? this.gridsFor(me, townId) : [],
        ])
        this.templateIds = town.templateIds
        const categoryIndex = categories.findIndex(c => c.id === fields.categoryId)
        this.setData({
          categories,
          categoryIndex,
          questions: categoryIndex >= 0 ? questionsOf(categories[categoryIndex].attributes, fields.attributes) : [],
          urgencies: town.urgencies,
          maxPhotos: town.maxPhotos,
          photoMaxBytes: town.photoMaxBytes,
          grids,
          gridIndex: grids.findIndex(g => g.id === fields.gridId),
        })
        if (behalf && grids.length === 1 && fields.gridId == null) this.change({ gridId: grids[0].id }, { gridIndex: 0 })
        await this.lookNearby()
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    /** A grid worker places orders in the grids they serve; a member in the grids of their branch. */
    async gridsFor(me, townId) {
      if (me.grids && me.grids.length) return me.grids
      const all = (await api.grids(townId)).items
      return me.branch ? all.filter(grid => grid.branch && grid.branch.id === me.branch.id) : all
    },
    category() {
      return this.data.categories[this.data.categoryIndex] || null
    },
    change(fieldChanges, dataChanges = {}) {
      const fields = { ...this.data.fields, ...fieldChanges }
      this.draft = { ...this.draft, fields }
      this.drafts.save(this.draft)
      this.setData({ fields, error: '', ...dataChanges })
    },
    onCategory(event) {
      const categoryIndex = Number(event.detail.value)
      const category = this.data.categories[categoryIndex]
      // The category's own urgency until the resident picks one.
      const urgency = this.data.fields.urgency || category.default_urgency || 'normal'
      // Another category asks other questions: the answers of the last one go.
      const attributes = category.id === this.data.fields.categoryId ? this.data.fields.attributes : {}
      this.change({ categoryId: category.id, urgency, attributes }, {
        categoryIndex, questions: questionsOf(category.attributes, attributes),
      })
      return this.lookNearby()
    },
    answer(code, value) {
      const attributes = { ...this.data.fields.attributes, [code]: value }
      const category = this.category()
      this.change({ attributes }, { questions: questionsOf(category ? category.attributes : [], attributes) })
    },
    onAnswer(event) {
      this.answer(event.currentTarget.dataset.code, event.detail.value)
    },
    onChoice(event) {
      const { code } = event.currentTarget.dataset
      const question = this.data.questions.find(q => q.code === code)
      this.answer(code, question.values[Number(event.detail.value)].key)
    },
    onChoices(event) {
      this.answer(event.currentTarget.dataset.code, (event.detail.value || []).slice())
    },
    onDateTime(event) {
      const { code, part } = event.currentTarget.dataset
      const parts = { ...datetimeParts(this.data.fields.attributes[code]), [part]: event.detail.value }
      this.answer(code, datetimeAnswer(parts.date, parts.time))
    },
    onDescription(event) {
      this.change({ description: event.detail.value })
    },
    onUrgency(event) {
      this.change({ urgency: event.currentTarget.dataset.value })
    },
    onAddress(event) {
      this.change({ address: event.detail.value })
    },
    onGrid(event) {
      const gridIndex = Number(event.detail.value)
      this.change({ gridId: this.data.grids[gridIndex].id }, { gridIndex })
    },
    onContactName(event) {
      this.change({ contactName: event.detail.value.trim() })
    },
    onContactPhone(event) {
      this.change({ contactPhone: event.detail.value.trim() })
    },
    onChannel(event) {
      this.change({ channel: event.currentTarget.dataset.value })
    },
    onChooseLocation() {
      return new Promise(resolve => {
        wx.chooseLocation({
          success: place => {
            this.change({
              address: [place.name, place.address].filter(Boolean).join(' ').slice(0, 200),
              latitude: place.latitude,
              longitude: place.longitude,
            })
            resolve(this.lookNearby())
          },
          fail: () => resolve(), // closed without choosing: keep what was there
        })
      })
    },
    /**
     * The open orders of the chosen category near the chosen point. Only a resident can
     * follow one, so 代点单 does not ask. A hint, not a step: when the read fails the form
     * goes on without it.
     */
    async lookNearby() {
      const { behalf, fields } = this.data
      if (behalf || fields.categoryId == null || fields.latitude == null || fields.longitude == null) {
        this.nearbyKey = ''
        if (this.data.nearby.length) this.setData({ nearby: [] })
        return
      }
      const key = `${fields.categoryId}@${fields.latitude},${fields.longitude}`
      if (key === this.nearbyKey) return
      this.nearbyKey = key
      try {
        const answer = await api.nearby(fields.categoryId, fields.latitude, fields.longitude)
        // A later choice asked again meanwhile: its answer is the one to show.
        if (key === this.nearbyKey) this.setData({ nearby: answer.items.map(nearbyView) })
      } catch (err) {
        if (key === this.nearbyKey) this.setData({ nearby: [] })
      }
    },
    /** 我也遇到了: follow that order instead of placing this one, and open it. */
    async onFollow(event) {
      if (this.data.following) return
      const id = Number(event.currentTarget.dataset.id)
      const item = this.data.nearby.find(n => n.id === id)
      const open = () => wx.redirectTo({ url: `/pages/order-detail/order-detail?id=${id}` })
      if (item.mine || item.following) return open()
      // A follower hears of the order's moves as its resident does: asked in the tap, before any await.
      const consent = askConsent(this.templateIds)
      const { latitude, longitude } = this.data.fields
      this.setData({ following: true, error: '' })
      try {
        await consent
        await api.follow(id, latitude, longitude)
        // This order is not going to be placed: the next form starts anew.
        this.drafts.finish()
        wx.showToast({ title: '已关注，办理进展会通知您', icon: 'none' })
        open()
      } catch (err) {
        this.setData({ error: messageOf(err) })
      } finally {
        this.setData({ following: false })
      }
    },
    onPhotos(event) {
      const { entries, photoIds, uploading } = event.detail
      this.draft = { ...this.draft, photos: entries }
      this.drafts.save(this.draft)
      this.setData({ photoIds, uploading })
    },
    problem() {
      const { fields, behalf, uploading } = this.data
      const category = this.category()
      if (fields.categoryId == null || !category) return '请选择诉求类别'
      if (!fields.description.trim()) return '请描述您的诉求'
      const unanswered = problemOf(category.attributes, fields.attributes)
      if (unanswered) return unanswered
      if (uploading) return '照片还在上传，请稍候'
      if (behalf && fields.gridId == null) return '请选择网格'
      if (behalf && !fields.contactName) return '请填写群众姓名'
      if (behalf && !/^\+?[0-9]{5,15}$/.test(fields.contactPhone)) return '请填写正确的联系电话'
      return ''
    },
    body() {
      const { fields, behalf, photoIds } = this.data
      const body = { category_id: fields.categoryId, description: fields.description.trim() }
      if (fields.urgency) body.urgency = fields.urgency
      if (fields.address) body.address = fields.address
      if (fields.latitude != null && fields.longitude != null) {
        body.latitude = fields.latitude
        body.longitude = fields.longitude
      }
      if (photoIds.length) body.photo_ids = photoIds
      const answers = answersToSend(this.category().attributes, fields.attributes)
      if (Object.keys(answers).length) body.attributes = answers
      if (behalf) {
        Object.assign(body, {
          grid_id: fields.gridId, contact_name: fields.contactName, contact_phone: fields.contactPhone, channel: fields.channel,
        })
      }
      return body
    },
    async onSubmit() {
      if (this.data.submitting) return
      const problem = this.problem()
      if (problem) return this.setData({ error: problem })
      // Asked here, in the tap, before any await: WeChat shows the dialog only from a tap.
      const consent = this.data.behalf ? Promise.resolve(null) : askConsent(this.templateIds)
      this.setData({ submitting: true, error: '' })
      try {
        await consent
        const { order, replayed } = await api.placeOrder(this.body(), { idempotencyKey: this.draft.idempotencyKey })
        this.drafts.finish()
        wx.showToast({ title: replayed ? '已提交过，未重复下单' : '提交成功', icon: 'success' })
        wx.redirectTo({ url: `/pages/order-detail/order-detail?id=${order.id}` })
      } catch (err) {
        this.setData({
          error: err.isNetwork
            ? '网络异常，未能确认是否提交成功。请再次点击提交，不会重复下单。'
            : messageOf(err),
        })
      } finally {
        this.setData({ submitting: false })
      }
    },
  },
})
