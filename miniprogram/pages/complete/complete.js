/**
 * 党员晒单: the member shows the work done, with a note and at least one photo they
 * uploaded themselves (as many and as large as the town's client config allows); the
 * resident then rates it.
 */
const { api, clientConfig, townOf } = require('../../utils/app-api')
const { messageOf } = require('../../utils/errors')

Component({
  data: { id: null, order: null, note: '', photoIds: [], uploading: false, maxPhotos: 0, photoMaxBytes: 0, busy: false, error: '' },
  methods: {
    async onLoad(query) {
      const id = Number(query.id)
      this.setData({ id })
      try {
        const [order, town] = await Promise.all([api.order(id), api.me().then(me => clientConfig(townOf(me)))])
        this.setData({ order, maxPhotos: town.maxPhotos, photoMaxBytes: town.photoMaxBytes })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    onNote(event) {
      this.setData({ note: event.detail.value })
    },
    onPhotos(event) {
      this.setData({ photoIds: event.detail.photoIds, uploading: event.detail.uploading })
    },
    async onSubmit() {
      const { id, note, photoIds, uploading, busy } = this.data
      if (busy) return
      if (!note.trim()) return this.setData({ error: '请填写办理情况' })
      if (uploading) return this.setData({ error: '照片还在上传，请稍候' })
      if (!photoIds.length) return this.setData({ error: '请至少上传一张办理照片' })
      this.setData({ busy: true, error: '' })
      try {
        await api.complete(id, note.trim(), photoIds)
        wx.showToast({ title: '已晒单', icon: 'success' })
        wx.navigateBack()
      } catch (err) {
        this.setData({ error: messageOf(err) })
      } finally {
        this.setData({ busy: false })
      }
    },
  },
})
