/**
 * 1–5 stars to tap. One or two stars do not close the order: the service sends it
 * back to the branch for another round (重办), so the hint says so before the rating
 * is sent.
 */
const HINTS = {
  1: '非常不满意：工单将退回支部重新办理',
  2: '不满意：工单将退回支部重新办理',
  3: '一般',
  4: '满意',
  5: '非常满意',
}

Component({
  properties: {
    value: { type: Number, value: 0 },
    readonly: { type: Boolean, value: false },
  },
  data: { stars: [1, 2, 3, 4, 5], hint: '' },
  observers: {
    value(value) {
      this.setData({ hint: HINTS[value] || '' })
    },
  },
  methods: {
    onTap(event) {
      if (this.data.readonly) return
      const value = Number(event.currentTarget.dataset.value)
      this.setData({ value, hint: HINTS[value] })
      this.triggerEvent('change', { value, reopens: value <= 2 })
    },
  },
})
