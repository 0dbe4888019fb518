/**
 * Photos for an order or a 晒单: pick with wx.chooseMedia, upload at once with a
 * progress bar each, retry a failed one, remove one. The parent gets `change` with the
 * entries (to keep in its draft) and the ids uploaded so far.
 */
const { api } = require('../../utils/app-api')
const { chooseImages, entryFor, uploadPending } = require('../../utils/upload')

Component({
  properties: {
    // The service's photos_per_order and photo_max_bytes (its client config).
    max: { type: Number, value: 0 },
    maxBytes: { type: Number, value: 0 },
    // Entries of an earlier visit (a draft): uploaded ones keep their id.
    photos: { type: Array, value: [] },
  },
  data: { entries: [], uploading: false },
  observers: {
    // Set once by the page (from its draft); later changes come from here, not back in.
    photos(photos) {
      this.setData({ entries: photos || [] })
    },
  },
  methods: {
    async onAdd() {
      const files = await chooseImages(this.data.max - this.data.entries.length)
      if (!files.length) return
      this.show(this.data.entries.concat(files.map(file => entryFor(file, this.data.maxBytes))))
      await this.uploadAll()
    },
    async onRetry() {
      await this.uploadAll()
    },
    onRemove(event) {
      const index = Number(event.currentTarget.dataset.index)
      this.show(this.data.entries.filter((_, i) => i !== index))
    },
    async uploadAll() {
      if (this.data.uploading) return
      this.setData({ uploading: true })
      this.tell()
      await uploadPending(api, this.data.entries, entries => this.show(entries))
      this.setData({ uploading: false })
      this.tell()
    },
    show(entries) {
      this.setData({ entries, failed: entries.some(entry => entry.error && !entry.tooLarge) })
      this.tell()
    },
    tell() {
      const { entries, uploading } = this.data
      this.triggerEvent('change', {
        entries,
        photoIds: entries.filter(entry => entry.id).map(entry => entry.id),
        uploading,
        failed: entries.some(entry => entry.error && !entry.tooLarge),
      })
    },
  },
})
