/**
 * The town the contract tests work in, built through the service's admin API the way
 * a town office would: one branch with two grids, a grid worker for each, the branch
 * secretary, two party members, two categories — 基础设施维修 with its own questions
 * (Open311 attributes) —, the public 晒单 board turned on and a "me too" radius of its own.
 */
const PASSWORD = 'contract-staff-2026'

// "Me too": how near an open order of the same category is offered (the service's default is 50).
const NEARBY_RADIUS_M = 80

// 基础设施维修's questions, as a town office sets them (PATCH /admin/categories/{id}).
const REPAIR_QUESTIONS = [
  { code: 'facility', datatype: 'singlevaluelist', description: '损坏的设施', required: true, order: 1,
    values: [{ key: 'streetlight', name: '路灯' }, { key: 'road', name: '道路' }] },
  { code: 'count', datatype: 'number', description: '损坏数量', order: 2 },
  { code: 'hazard', datatype: 'multivaluelist', description: '存在的隐患', order: 3,
    values: [{ key: 'dark', name: '夜间无照明' }, { key: 'traffic', name: '影响通行' }] },
  { code: 'since', datatype: 'datetime', description: '发现时间', order: 4 },
  { code: 'notice', datatype: 'string', description: '涉及用电危险的，请先远离', variable: false, order: 0 },
]

const STAFF = {
  gridWorker: { name: '第一网格网格员', phone: '13800000201', role: 'grid_worker', grid: 'first' },
  gridWorker2: { name: '第二网格网格员', phone: '13800000202', role: 'grid_worker', grid: 'second' },
  secretary: { name: '东湖村书记', phone: '13800000101', role: 'secretary' },
  member: { name: '王建国', phone: '13800000301', role: 'member' },
  member2: { name: '李秀英', phone: '13800000302', role: 'member' },
}

async function buildTown(baseUrl, admin) {
  const signIn = await fetch(`${baseUrl}/auth/staff`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(admin),
  })
  if (signIn.status !== 200) throw new Error(`the town admin could not sign in: ${signIn.status} ${await signIn.text()}`)
  const { access_token: token } = await signIn.json()
  const send = async (method, path, body) => {
    const response = await fetch(baseUrl + path, {
      method, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body),
    })
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
    return response.json()
  }

  const branch = await send('POST', '/admin/branches', { name: '东湖村党支部' })
  const grids = {
    first: await send('POST', '/admin/grids', { branch_id: branch.id, name: '东湖村第一网格' }),
    second: await send('POST', '/admin/grids', { branch_id: branch.id, name: '东湖村第二网格' }),
  }
  const staff = {}
  for (const [key, person] of Object.entries(STAFF)) {
    const body = { name: person.name, phone: person.phone, role: person.role, password: PASSWORD }
    if (person.grid) body.grid_ids = [grids[person.grid].id]
    else body.branch_id = branch.id
    const made = await send('POST', '/admin/staff', body)
    staff[key] = { id: made.id, name: person.name, phone: person.phone }
  }
  const categories = {
    repair: await send('POST', '/admin/categories', { name: '基础设施维修', description: '路灯、道路、水电等公共设施损坏' }),
    help: await send('POST', '/admin/categories', { name: '困难帮扶', description: '低保户、困难群众的衣物、生活物资' }),
  }
  await send('PATCH', `/admin/categories/${categories.repair.id}`, { attributes: REPAIR_QUESTIONS, public_requests: true })
  const town = await send('PATCH', '/admin/town', { public_board_enabled: true, nearby_radius_m: NEARBY_RADIUS_M })
  return {
    townId: town.id,
    branchId: branch.id,
    grids: { first: grids.first.id, second: grids.second.id },
    categories: { repair: categories.repair.id, help: categories.help.id },
    repairQuestions: REPAIR_QUESTIONS,
    nearbyRadiusM: NEARBY_RADIUS_M,
    staff,
    password: PASSWORD,
  }
}

module.exports = { buildTown }
