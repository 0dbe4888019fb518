/**
 * The five orders end to end through utils/api.js against the real wudan service:
 * 群众点单 (with a photo) → 网格领单 → 支部派单 → 党员接单 → 党员晒单 (with a photo) →
 * 群众评单, a low rating sending it back (重办), and a 代点单 that the resident sees
 * once WeChat has vouched for their phone, rated by callback (回访).
 */
const { staff, wechatResident, photoFile, cleanupPhotos, raw, town } = require('./clients')

let grid
let secretary
let member

beforeAll(async () => {
  ;[grid, secretary, member] = await Promise.all([staff('gridWorker'), staff('secretary'), staff('member')])
})
afterAll(cleanupPhotos)

async function placeWithPhoto(resident, description, key) {
  const progress = []
  const photo = await resident.api.uploadPhoto(photoFile(), percent => progress.push(percent))
  expect(progress).toEqual([100])
  const body = {
    category_id: town().categories.repair, description, urgency: 'urgent', address: '东湖村村委会门口',
    latitude: 30.25, longitude: 120.16, photo_ids: [photo.id], attributes: { facility: 'streetlight', count: '3' },
  }
  return { body, ...(await resident.api.placeOrder(body, { idempotencyKey: key })) }
}

/** Claim, dispatch to 王建国 (the id the suggestions name), accept, complete with a photo. */
async function workThrough(orderId) {
  const claimed = await grid.api.claim(orderId)
  expect(claimed).toMatchObject({ state: 'claimed', state_label: '待派单' })

  const suggestions = await secretary.api.dispatchSuggestions(orderId)
  const wang = suggestions.items.find(item => item.member.name === '王建国')
  expect(wang.reasons.every(reason => typeof reason.label === 'string' && reason.label.length > 0)).toBe(true)
  const dispatched = await secretary.api.dispatch(orderId, wang.member.id, '请今天下午去看一下')
  expect(dispatched).toMatchObject({ state: 'dispatched', state_label: '待接单', assignee: { id: wang.member.id, name: '王建国' } })

  const tasks = await member.api.todo({ limit: 100 })
  expect(tasks.items.map(o => o.id)).toContain(orderId)
  const accepted = await member.api.accept(orderId)
  expect(accepted).toMatchObject({ state: 'in_progress', state_label: '办理中', allowed_actions: ['complete'] })

  const evidence = await member.api.uploadPhoto(photoFile())
  const completed = await member.api.complete(orderId, '三盏路灯已更换灯泡,晚上试过都亮了', [evidence.id])
  expect(completed).toMatchObject({ state: 'completed', state_label: '待评价', completion_note: '三盏路灯已更换灯泡,晚上试过都亮了' })
  return evidence
}

test('a resident\'s order goes round the whole loop and closes with five stars', async () => {
  const resident = await wechatResident('mp-loop-resident', { name: '周大妈' })
  const me = await resident.api.me()
  expect(me).toMatchObject({ kind: 'resident', role_label: '群众', name: '周大妈', grid: { id: town().grids.first, name: '东湖村第一网格' } })

  const key = `mp-contract-${Date.now()}`
  const { order, replayed, body } = await placeWithPhoto(resident, '村委会门口的路灯坏了三盏,晚上很黑', key)
  expect(replayed).toBe(false)
  expect(order).toMatchObject({
    state: 'submitted', state_label: '待领单', urgency: 'urgent', urgency_label: '紧急', allowed_actions: ['cancel'],
    grid: { id: town().grids.first, name: '东湖村第一网格' }, channel_label: '小程序', attributes: { facility: 'streetlight', count: '3' },
    following: false, follower_count: 0, duplicate_of_id: null,
  })

  // The same key again (a retry after a lost answer) is the same order, not a second one.
  const again = await resident.api.placeOrder(body, { idempotencyKey: key })
  expect(again.replayed).toBe(true)
  expect(again.order.id).toBe(order.id)
  expect((await resident.api.orders({ limit: 100 })).items.filter(o => o.id === order.id)).toHaveLength(1)

  const todo = await grid.api.todo({ limit: 100 })
  const listed = todo.items.find(o => o.id === order.id)
  expect(listed).toMatchObject({ state_label: '待领单', allowed_actions: ['claim', 'reject', 'transfer'] })
  expect(typeof listed.overdue).toBe('boolean')

  const evidence = await workThrough(order.id)

  const shown = await resident.api.order(order.id)
  expect(shown.allowed_actions).toEqual(['rate'])
  expect(shown.photos.map(p => p.purpose).sort()).toEqual(['evidence', 'request'])
  const shownEvidence = shown.photos.find(p => p.purpose === 'evidence')
  expect(shownEvidence.id).toBe(evidence.id)
  // <image src> sends no Authorization header: the signed URL must load without one.
  const image = await raw(shownEvidence.url.replace(/^https?:\/\/[^/]+/, ''))
  expect(image.status).toBe(200)
  expect(image.headers.get('content-type')).toBe('image/png')
  expect(resident.api.absoluteUrl(shownEvidence.url)).toBe(process.env.WUDAN_BASE_URL + shownEvidence.url)

  const rated = await resident.api.rate(order.id, 5, '修得很快,谢谢!')
  expect(rated).toMatchObject({ state: 'closed', state_label: '已办结', rating: { stars: 5, comment: '修得很快,谢谢!', source: 'resident' } })

  const timeline = (await resident.api.order(order.id)).timeline
  expect(timeline.map(e => [e.action_label, e.to_state_label, e.actor_role_label])).toEqual([
    ['群众点单', '待领单', '群众'],
    ['网格领单', '待派单', '网格员'],
    ['支部派单', '待接单', '支部书记'],
    ['党员接单', '办理中', '党员'],
    ['党员晒单', '待评价', '党员'],
    ['群众评单', '已办结', '群众'],
  ])
  expect(timeline[2].note).toBe('请今天下午去看一下')

  // The sign-in went through WeChat's code2session with the server's appid.
  const calls = await (await fetch(`${process.env.WECHAT_STANDIN_URL}/__calls`)).json()
  expect(calls.some(c => c.path === '/sns/jscode2session' && c.query.js_code === 'code-mp-loop-resident' && c.query.appid === 'wx-contract-test')).toBe(true)
})

test('one or two stars send the order back to the branch (重办), rating kept', async () => {
  const resident = await wechatResident('mp-reopen-resident', { name: '钱阿姨' })
  const { order } = await placeWithPhoto(resident, '屋顶漏雨,卧室的墙都湿了', `mp-reopen-${Date.now()}`)
  await workThrough(order.id)

  const reopened = await resident.api.rate(order.id, 2, '楼上还在漏')
  expect(reopened).toMatchObject({
    state: 'claimed', state_label: '待派单', reopen_count: 1, assignee: null,
    rating: { stars: 2, comment: '楼上还在漏', source: 'resident' },
  })
  const secretaryTodo = await secretary.api.todo({ limit: 100 })
  expect(secretaryTodo.items.map(o => o.id)).toContain(order.id)
  const timeline = (await resident.api.order(order.id)).timeline
  expect(timeline[timeline.length - 1]).toMatchObject({ action_label: '重办', to_state_label: '待派单', note: '楼上还在漏' })
})

test('代点单 for a phone becomes the resident\'s once WeChat vouches for the phone; the grid worker rates it by callback', async () => {
  const phone = '13712340001'
  const { order } = await grid.api.placeOrder({
    category_id: town().categories.help, description: '低保户需要过冬的棉衣', grid_id: town().grids.first, contact_name: '孙奶奶', contact_phone: phone, channel: 'phone',
  })
  expect(order).toMatchObject({ placed_on_behalf: true, channel: 'phone', channel_label: '电话', state_label: '待领单' })

  const stranger = await wechatResident('mp-typed-phone', { name: '冒名者' })
  await stranger.api.updateProfile({ phone })
  expect((await stranger.api.orders({ limit: 100 })).items.map(o => o.id)).not.toContain(order.id)

  const resident = await wechatResident('mp-behalf-resident', { name: '孙奶奶', phone })
  expect((await resident.api.me()).phone).toBe(phone)
  expect((await resident.api.orders({ limit: 100 })).items.map(o => o.id)).toContain(order.id)

  await workThrough(order.id)
  const waiting = await grid.api.orders({ state: 'completed', limit: 100 })
  expect(waiting.items.find(o => o.id === order.id).allowed_actions).toContain('rate')
  const rated = await grid.api.rate(order.id, 4, '电话回访:满意')
  expect(rated).toMatchObject({ state_label: '已办结', rating: { stars: 4, source: 'callback' } })
})
