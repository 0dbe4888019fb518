/**
 * Where each role starts, and the entries of its home page.
 */
const { TODO_TITLES } = require('./labels')

const ENTRIES = {
  resident: [
    { key: 'new', title: '我要点单', url: '/pages/order-new/order-new' },
    { key: 'mine', title: '我的工单', url: '/pages/orders/orders?mode=mine' },
    { key: 'todo', title: '待评价', url: '/pages/orders/orders?mode=todo' },
    { key: 'board', title: '晒单墙', url: '/pages/board/board' },
    { key: 'inbox', title: '消息', url: '/pages/inbox/inbox' },
    { key: 'profile', title: '我的资料', url: '/pages/profile/profile' },
  ],
  grid_worker: [
    { key: 'todo', title: TODO_TITLES.grid_worker, url: '/pages/orders/orders?mode=todo' },
    { key: 'behalf', title: '代点单', url: '/pages/order-new/order-new?behalf=1' },
    { key: 'callback', title: '待回访', url: '/pages/orders/orders?mode=callback' },
    { key: 'all', title: '网格工单', url: '/pages/orders/orders?mode=all' },
    { key: 'inbox', title: '消息', url: '/pages/inbox/inbox' },
  ],
  secretary: [
    { key: 'todo', title: TODO_TITLES.secretary, url: '/pages/orders/orders?mode=todo' },
    { key: 'all', title: '支部工单', url: '/pages/orders/orders?mode=all' },
    { key: 'board', title: '晒单墙', url: '/pages/board/board' },
    { key: 'inbox', title: '消息', url: '/pages/inbox/inbox' },
  ],
  member: [
    { key: 'todo', title: TODO_TITLES.member, url: '/pages/orders/orders?mode=todo' },
    { key: 'behalf', title: '代点单', url: '/pages/order-new/order-new?behalf=1' },
    { key: 'all', title: '我经手的工单', url: '/pages/orders/orders?mode=all' },
    { key: 'board', title: '晒单墙', url: '/pages/board/board' },
    { key: 'inbox', title: '消息', url: '/pages/inbox/inbox' },
  ],
}

/**
 * The home entries of a role; roles the mini-program does not serve (town admin, unit
 * staff) get the inbox only. 晒单墙 only where the town has its board on.
 */
function entriesFor(role, { boardEnabled = true } = {}) {
  const entries = ENTRIES[role] || [{ key: 'inbox', title: '消息', url: '/pages/inbox/inbox' }]
  return boardEnabled ? entries : entries.filter(entry => entry.key !== 'board')
}

module.exports = { entriesFor }
