/**
 * Chinese words the pages show for codes the service answers without a label.
 *
 * States, urgencies and channels are not here: every order carries its own
 * `state_label`, `urgency_label` and `channel_label`, timeline events their
 * `to_state_label`, and the order form takes the urgency choices from the town's client
 * config (`urgency_labels`). The buttons name actions in the words of the five orders.
 */

// What a button for each of the order's `allowed_actions` says.
const ACTION_LABELS = {
  claim: '领单',
  transfer: '转交网格',
  reject: '不予受理',
  cancel: '撤单',
  dispatch: '派单',
  accept: '接单',
  decline: '退回',
  complete: '晒单',
  rate: '评价',
}

// Actions that need a reason typed before they are sent (cancel's is optional).
const ACTIONS_WITH_REASON = ['transfer', 'reject', 'decline', 'cancel']

// What each role's to-do list (/orders/todo) holds.
const TODO_TITLES = {
  grid_worker: '待领单',
  secretary: '待派单',
  member: '我的任务',
  resident: '待评价',
}

// The channels a 代点单 is taken by (the service labels every order's channel itself).
const CHANNEL_CHOICES = [
  { value: 'visit', label: '走访' },
  { value: 'phone', label: '电话' },
]

module.exports = { ACTION_LABELS, ACTIONS_WITH_REASON, TODO_TITLES, CHANNEL_CHOICES }
