/**
 * One order in a list: number, category, state (the service's label), the overdue
 * mark, the start of the description and when it was placed; 「关注」 on an order the
 * resident follows (another resident's: "me too"), and where it came from when not the
 * mini-program (代点单·电话, 城市平台 — the service's channel labels).
 */
const { shortTime, overdueText } = require('../../utils/time')

Component({
  properties: {
    order: { type: Object, value: null },
  },
  data: { view: null },
  observers: {
    order(order) {
      if (!order) return this.setData({ view: null })
      this.setData({
        view: {
          id: order.id,
          category: order.category ? order.category.name : '',
          stateLabel: order.state_label,
          state: order.state,
          overdue: overdueText(order),
          urgent: order.urgency === 'urgent' ? order.urgency_label : '',
          following: order.following === true,
          description: order.description,
          grid: order.grid ? order.grid.name : '',
          placedAt: shortTime(order.created_at),
          onBehalf: order.placed_on_behalf ? order.channel_label : '',
          channel: !order.placed_on_behalf && order.channel && order.channel !== 'mini_program' ? order.channel_label : '',
        },
      })
    },
  },
  methods: {
    onTap() {
      this.triggerEvent('open', { id: this.data.view.id })
    },
  },
})
