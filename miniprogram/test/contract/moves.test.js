/**
 * The other moves and reads the pages make, through utils/api.js against the real
 * service: cancel, reject, transfer, decline; refusals in Chinese; paging; the inbox;
 * the public 晒单 board; a refreshed session; sign-out.
 */
const { ApiError } = require('../../utils/errors')
const { staff, wechatResident, photoFile, cleanupPhotos, raw, eventually, town } = require('./clients')

let grid
let grid2
let secretary
let member
let resident

beforeAll(async () => {
  ;[grid, grid2, secretary, member] = await Promise.all([staff('gridWorker'), staff('gridWorker2'), staff('secretary'), staff('member2')])
  resident = await wechatResident('mp-moves-resident', { name: '吴大爷' })
})
afterAll(cleanupPhotos)

const place = description => resident.api.placeOrder({
  category_id: town().categories.repair, description, attributes: { facility: 'road' },
}).then(answer => answer.order)

async function refusal(promise) {
  const error = await promise.then(() => null, err => err)
  expect(error).toBeInstanceOf(ApiError)
  return error
}

test('a resident cancels before dispatch (撤单), and cannot cancel twice', async () => {
  const order = await place('想把门口的杂物清走')
  const cancelled = await resident.api.cancel(order.id, '自己已经清理了')
  expect(cancelled).toMatchObject({ state: 'cancelled', state_label: '已撤单', allowed_actions: [] })

  const error = await refusal(resident.api.cancel(order.id))
  expect(error.status).toBe(409)
  expect(error.code).toBe('invalid-transition')
  expect(error.message).toMatch(/[\u4e00-\u9fa5]/) // the service's own Chinese detail
  expect(error.problem.current_state_label).toBe('已撤单')
})

test('a grid worker rejects with a reason (不予受理); without one the 422 names the field in Chinese', async () => {
  const order = await place('要求村里给每户发一台空调')
  const missing = await refusal(grid.api.reject(order.id, ''))
  expect(missing.status).toBe(422)
  expect(missing.message.startsWith('原因：')).toBe(true)

  const rejected = await grid.api.reject(order.id, '不属于受理范围')
  expect(rejected).toMatchObject({ state: 'rejected', state_label: '不予受理', duplicate_of_id: null })
  const timeline = (await resident.api.order(order.id)).timeline
  expect(timeline[timeline.length - 1]).toMatchObject({ to_state_label: '不予受理', note: '不属于受理范围' })
})

test('a grid worker transfers an order to the grid it belongs to, whose worker then claims it', async () => {
  const order = await place('第二网格的井盖丢了')
  const grids = (await grid.api.grids(town().townId)).items
  const second = grids.find(g => g.name === '东湖村第二网格')
  const moved = await grid.api.transfer(order.id, second.id, '地址在第二网格')
  expect(moved).toMatchObject({ state_label: '待领单', grid: { id: second.id, name: '东湖村第二网格' } })
  expect((await grid2.api.todo({ limit: 100 })).items.map(o => o.id)).toContain(order.id)
  // The first grid worker may no longer claim it; the 403 is in Chinese.
  const error = await refusal(grid.api.claim(order.id))
  expect([403, 404]).toContain(error.status)
  expect(error.message).toMatch(/[\u4e00-\u9fa5]/)
  expect(await grid2.api.claim(order.id)).toMatchObject({ state_label: '待派单' })
})

test('a member declines (退回) and the order waits for the secretary again', async () => {
  const order = await place('帮忙代缴一下医保')
  await grid.api.claim(order.id)
  const suggestions = await secretary.api.dispatchSuggestions(order.id)
  const li = suggestions.items.find(item => item.member.name === '李秀英')
  await secretary.api.dispatch(order.id, li.member.id)
  const declined = await member.api.decline(order.id, '这周在外地')
  expect(declined).toMatchObject({ state: 'claimed', state_label: '待派单', assignee: null })
})

test('lists page with limit and offset, and filter by state', async () => {
  const placed = []
  for (const text of ['分页一', '分页二', '分页三']) placed.push((await place(text)).id)
  const first = await resident.api.orders({ sort: 'newest', limit: 2, offset: 0 })
  const second = await resident.api.orders({ sort: 'newest', limit: 2, offset: 2 })
  expect(first).toMatchObject({ limit: 2, offset: 0 })
  expect(first.items.map(o => o.id)).toEqual([placed[2], placed[1]])
  expect(second.items[0].id).toBe(placed[0])
  expect(second.total).toBe(first.total)
  const submitted = await resident.api.orders({ state: ['submitted'], limit: 100 })
  expect(submitted.items.every(o => o.state === 'submitted')).toBe(true)
  expect(submitted.items.map(o => o.id)).toEqual(expect.arrayContaining(placed))
})

test('the inbox tells the resident of the claim, and marks read', async () => {
  const order = await place('路口的反光镜歪了')
  await grid.api.claim(order.id)
  const notice = await eventually(async () => (await resident.api.inbox({ limit: 50 })).items.find(item => item.order_id === order.id))
  expect(notice.title).toMatch(/[\u4e00-\u9fa5]/)
  expect(notice.read).toBe(false)
  const before = await resident.api.unreadCount()
  await resident.api.markRead(notice.id)
  expect(await resident.api.unreadCount()).toBe(before - 1)
  expect((await resident.api.markAllRead()).unread).toBe(0)
})

test('the public 晒单 board shows the member\'s work and loads its photos without sign-in', async () => {
  const wang = await staff('member')
  const order = await place('村头垃圾桶满了')
  await grid.api.claim(order.id)
  const suggestions = await secretary.api.dispatchSuggestions(order.id)
  await secretary.api.dispatch(order.id, suggestions.items.find(item => item.member.name === '王建国').member.id)
  await wang.api.accept(order.id)
  const photo = await wang.api.uploadPhoto(photoFile())
  await wang.api.complete(order.id, '已清运', [photo.id])

  const board = await resident.api.board(town().townId, { limit: 50 })
  const shown = board.items.find(item => item.id === order.id)
  expect(shown).toMatchObject({ state_label: '待评价', completion_note: '已清运', member: { name: '王建国' } })
  const image = await raw(shown.photos[0].url)
  expect(image.status).toBe(200)
  expect(image.headers.get('content-type')).toBe('image/png')
})

test('a refused access token is refreshed once with the refresh token, then the call succeeds', async () => {
  const person = await wechatResident('mp-refresh-resident', { name: '郑阿姨' })
  const state = person.storage.get('wudan.session')
  person.storage.set('wudan.session', { ...state, accessToken: 'not-a-token' })
  const me = await person.api.me()
  expect(me.name).toBe('郑阿姨')
  const renewed = person.storage.get('wudan.session')
  expect(renewed.accessToken).not.toBe('not-a-token')
  expect(renewed.refreshToken).not.toBe(state.refreshToken) // single use: the next one is kept

  await person.api.signOut()
  expect(person.session.accessToken()).toBeNull()
  const error = await refusal(person.api.me())
  expect(error.status).toBe(401)
  expect(error.message).toBe('未登录或登录已失效，请重新登录')
})
