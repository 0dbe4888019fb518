/**
 * An order's timeline, oldest first: what happened (the service's action label), the
 * state it led to, who did it and their note.
 */
const { shortTime } = require('../../utils/time')

Component({
  properties: {
    events: { type: Array, value: [] },
  },
  data: { rows: [] },
  observers: {
    events(events) {
      this.setData({
        rows: (events || []).map(event => ({
          id: event.id,
          at: shortTime(event.at),
          action: event.action_label,
          toState: event.to_state_label || '',
          who: [event.actor_role_label, event.actor_name].filter(Boolean).join(' '),
          note: event.note || '',
        })),
      })
    },
  },
})
