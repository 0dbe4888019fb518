/**
 * Answers shaped as the wudan service answers them (copied from a demo-town run:
 * GET /orders/{id}, /me, /towns/1/categories …), for the page tests' stubbed network.
 * The contract tests check the same shapes against the real service.
 */

const STATE_LABELS = {
  submitted: '待领单', claimed: '待派单', dispatched: '待接单', in_progress: '办理中',
  completed: '待评价', closed: '已办结', rejected: '不予受理', cancelled: '已撤单',
}

const URGENCY_LABELS = { normal: '一般', urgent: '紧急' }

function order(overrides = {}) {
  const state = overrides.state || 'submitted'
  const urgency = overrides.urgency || 'normal'
  return {
    id: 13,
    state,
    state_label: STATE_LABELS[state],
    urgency,
    urgency_label: URGENCY_LABELS[urgency],
    category: { id: 1, name: '基础设施维修' },
    grid: { id: 1, name: '东湖村第一网格' },
    branch: { id: 1, name: '东湖村党支部' },
    description: '村委会门口的路灯坏了三盏,晚上很黑',
    address: '东湖村村委会门口',
    latitude: null,
    longitude: null,
    contact_name: '张大爷',
    contact_phone: '13900000001',
    channel: 'mini_program',
    channel_label: '小程序',
    attributes: {},
    media_url: null,
    visit_id: null,
    placed_on_behalf: false,
    assignee: null,
    action_team: null,
    reopen_count: 0,
    duplicate_of_id: null,
    follower_count: 0,
    following: false,
    completion_note: null,
    rating: null,
    created_at: '2026-11-21T20:12:22.199484Z',
    updated_at: '2026-11-21T20:12:22.199484Z',
    stage_deadline: '2026-11-21T22:12:22.199484Z',
    overdue: false,
    overdue_seconds: 0,
    closed_at: null,
    allowed_actions: [],
    ...overrides,
  }
}

function event(id, action, actionLabel, toState, actor, note = null) {
  return {
    id, action, action_label: actionLabel, from_state: null, from_state_label: null,
    to_state: toState, to_state_label: STATE_LABELS[toState],
    actor_role: actor.role, actor_role_label: actor.roleLabel, actor_name: actor.name,
    note, data: {}, at: '2026-11-21T20:12:22.426008Z',
  }
}

const RESIDENT = { role: 'resident', roleLabel: '群众', name: '张大爷' }
const GRID_WORKER = { role: 'grid_worker', roleLabel: '网格员', name: '东湖村第一网格网格员' }
const SECRETARY = { role: 'secretary', roleLabel: '支部书记', name: '东湖村书记' }
const MEMBER = { role: 'member', roleLabel: '党员', name: '王建国' }

/** GET /orders/13 of an order 王建国 has completed with one evidence photo. */
function completedDetail(overrides = {}) {
  return {
    ...order({
      state: 'completed',
      assignee: { id: 6, name: '王建国' },
      completion_note: '三盏路灯已更换灯泡,晚上试过都亮了',
      stage_deadline: '2026-11-28T20:12:22Z',
      allowed_actions: ['rate'],
      ...overrides,
    }),
    photos: [{
      id: 'UhsAeBVu_hLPqdo_aR5vURPbs2cwuXP6',
      url: '/photos/UhsAeBVu_hLPqdo_aR5vURPbs2cwuXP6/signed?expires=1796301000&signature=abc',
      url_expires_at: '2026-12-03T12:30:00Z',
      purpose: 'evidence',
      content_type: 'image/png',
      size: 74,
    }],
    timeline: [
      event(40, 'submit', '群众点单', 'submitted', RESIDENT),
      event(41, 'claim', '网格领单', 'claimed', GRID_WORKER),
      event(42, 'dispatch', '支部派单', 'dispatched', SECRETARY, '请今天下午去看一下'),
      event(43, 'accept', '党员接单', 'in_progress', MEMBER),
      event(44, 'complete', '党员晒单', 'completed', MEMBER, '三盏路灯已更换灯泡,晚上试过都亮了'),
    ],
    whistles: [],
  }
}

function detail(overrides = {}) {
  return { ...order(overrides), photos: [], timeline: [event(40, 'submit', '群众点单', 'submitted', RESIDENT)], whistles: [], ...overrides }
}

function page(items, { total = items.length, limit = 20, offset = 0 } = {}) {
  return { items, total, limit, offset }
}

// The questions of 基础设施维修, one of each datatype, as GET /towns/{id}/categories
// answers them (sorted by `order`).
const REPAIR_QUESTIONS = [
  { code: 'facility', datatype: 'singlevaluelist', description: '损坏的设施', variable: true, required: true, datatype_description: '', order: 1,
    values: [{ key: 'streetlight', name: '路灯' }, { key: 'road', name: '道路' }, { key: 'water', name: '供水' }] },
  { code: 'count', datatype: 'number', description: '损坏数量', variable: true, required: false, datatype_description: '', order: 2, values: [] },
  { code: 'pole_no', datatype: 'string', description: '杆号或门牌号', variable: true, required: false, datatype_description: '', order: 3, values: [] },
  { code: 'hazard', datatype: 'multivaluelist', description: '存在的隐患', variable: true, required: false, datatype_description: '', order: 4,
    values: [{ key: 'dark', name: '夜间无照明' }, { key: 'electric', name: '漏电' }, { key: 'traffic', name: '影响通行' }] },
  { code: 'since', datatype: 'datetime', description: '发现时间', variable: true, required: false, datatype_description: '', order: 5, values: [] },
  { code: 'details', datatype: 'text', description: '补充说明', variable: true, required: false, datatype_description: '', order: 6, values: [] },
  { code: 'notice', datatype: 'string', description: '涉及用电危险的，请先远离并拨打95598', variable: false, required: false, datatype_description: '', order: 0, values: [] },
]

const CATEGORIES = page([
  { id: 1, name: '基础设施维修', description: '路灯、道路、水电等公共设施损坏', default_urgency: 'normal', attributes: REPAIR_QUESTIONS },
  { id: 2, name: '房屋修缮', description: '独居老人、困难家庭房屋漏雨、墙体破损', default_urgency: 'urgent', attributes: [] },
  { id: 3, name: '困难帮扶', description: '低保户、困难群众的衣物、生活物资', default_urgency: 'normal', attributes: [] },
], { limit: 100 })

/** GET /towns/1/client-config of a server with PHOTOS_PER_ORDER=6 and no subscribe templates. */
function clientConfig(overrides = {}) {
  return {
    town: { id: 1, name: '青山镇' },
    photos_per_order: 6,
    photo_max_bytes: 5242880,
    subscribe_template_ids: [],
    public_board_enabled: true,
    nearby_radius_m: 50,
    urgency_labels: { ...URGENCY_LABELS },
    ...overrides,
  }
}

/** GET /orders/nearby: open orders of the category near the point, nearest first. */
function nearby(items, { radius_m = 50, days = 14 } = {}) {
  return { radius_m, days, items }
}

function nearbyOrder(overrides = {}) {
  return {
    id: 16, state: 'claimed', state_label: '待派单', category: { id: 1, name: '基础设施维修' },
    summary: '村委会门口的路灯坏了三盏,晚上很黑', distance_m: 23.4, created_at: '2026-11-21T20:12:22Z',
    follower_count: 2, mine: false, following: false, ...overrides,
  }
}

const GRIDS = page([
  { id: 1, name: '东湖村第一网格', branch: { id: 1, name: '东湖村党支部' } },
  { id: 2, name: '东湖村第二网格', branch: { id: 1, name: '东湖村党支部' } },
  { id: 4, name: '柳营村第一网格', branch: { id: 2, name: '柳营村党支部' } },
], { limit: 100 })

const ME = {
  resident: {
    kind: 'resident', id: 1, role: 'resident', role_label: '群众', name: '张大爷', phone: '13900000001',
    town: { id: 1, name: '青山镇' }, branch: null, grid: { id: 1, name: '东湖村第一网格' }, grids: [], profile_complete: true,
  },
  grid_worker: {
    kind: 'staff', id: 3, role: 'grid_worker', role_label: '网格员', name: '东湖村第一网格网格员', phone: '13800000201',
    town: { id: 1, name: '青山镇' }, branch: null, grid: null, grids: [{ id: 1, name: '东湖村第一网格' }], profile_complete: true,
  },
  secretary: {
    kind: 'staff', id: 2, role: 'secretary', role_label: '支部书记', name: '东湖村书记', phone: '13800000101',
    town: { id: 1, name: '青山镇' }, branch: { id: 1, name: '东湖村党支部' }, grid: null, grids: [], profile_complete: true,
  },
  member: {
    kind: 'staff', id: 6, role: 'member', role_label: '党员', name: '王建国', phone: '13800000301',
    town: { id: 1, name: '青山镇' }, branch: { id: 1, name: '东湖村党支部' }, grid: null, grids: [], profile_complete: true,
  },
}

function tokens(kind, role, userId) {
  return {
    access_token: `access-${role}`, token_type: 'bearer', expires_in: 3600, kind, role, user_id: userId,
    profile_complete: kind === 'resident' ? true : null, refresh_token: `refresh-${role}`, refresh_expires_in: 2592000,
  }
}

function problem(status, code, title, detail, extra = {}) {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', 'Content-Language': 'zh-CN' },
    data: { type: `urn:wudan:problem:${code}`, code, title, status, detail, instance: '/', ...extra },
  }
}

module.exports = {
  STATE_LABELS, order, detail, completedDetail, page, CATEGORIES, REPAIR_QUESTIONS, GRIDS, ME, tokens, problem,
  clientConfig, nearby, nearbyOrder,
}
