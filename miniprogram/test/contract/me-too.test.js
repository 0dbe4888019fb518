/**
 * What the order form now asks of the real service, through utils/api.js and the
 * helpers the pages use (utils/client-config.js, utils/attributes.js): the town's
 * client config and the limits it publishes; a category's own questions and their
 * answers; "me too" — a second resident near the first finds the first's order, follows
 * it, sees it in the list, is told of its claim, and unfollows; a duplicate rejected with
 * `duplicate_of_id` making its placer a follower of the original.
 */
const { ApiError } = require('../../utils/errors')
const { createClientConfig } = require('../../utils/client-config')
const { questionsOf, problemOf, answersToSend, datetimeAnswer } = require('../../utils/attributes')
const { SERVICE } = require('./server')
const { staff, wechatResident, photoFile, cleanupPhotos, eventually, town } = require('./clients')

// A corner of the town of its own: the other files place their orders elsewhere (or nowhere).
const HERE = { latitude: 30.3101, longitude: 120.2202 }
const metresNorth = (point, metres) => ({ latitude: point.latitude + metres / 111195, longitude: point.longitude })

let grid
beforeAll(async () => {
  grid = await staff('gridWorker')
})
afterAll(cleanupPhotos)

async function refusal(promise) {
  const error = await promise.then(() => null, err => err)
  expect(error).toBeInstanceOf(ApiError)
  return error
}

const calls = async () => (await fetch(`${process.env.WECHAT_STANDIN_URL}/__calls`)).json()

test('the client config publishes what the service was started with, and the service holds to it', async () => {
  const resident = await wechatResident('mp-config-resident', { name: '冯大姐' })
  const config = await createClientConfig(resident.api)(town().townId)
  expect(config).toEqual({
    town: { id: town().townId, name: '青山镇' },
    maxPhotos: SERVICE.photosPerOrder,
    photoMaxBytes: expect.any(Number),
    templateIds: Object.values(SERVICE.templates).map(t => t.template_id).sort(),
    boardEnabled: true,
    nearbyRadiusM: town().nearbyRadiusM,
    urgencies: [{ value: 'normal', label: '一般' }, { value: 'urgent', label: '紧急' }],
    urgencyLabels: { normal: '一般', urgent: '紧急' },
  })
  expect(config.photoMaxBytes).toBeGreaterThan(1024)

  // The picker's cap is the service's limit: one photo more is refused, that many are taken.
  const photos = []
  for (let n = 0; n <= config.maxPhotos; n += 1) photos.push((await resident.api.uploadPhoto(photoFile())).id)
  const body = { category_id: town().categories.help, description: '家里老人需要轮椅' }
  const tooMany = await refusal(resident.api.placeOrder({ ...body, photo_ids: photos }))
  expect(tooMany.status).toBe(422)
  expect(tooMany.message).toContain(`一次最多 ${config.maxPhotos} 张图片`)
  const { order } = await resident.api.placeOrder({ ...body, photo_ids: photos.slice(0, config.maxPhotos) })
  expect((await resident.api.order(order.id)).photos).toHaveLength(config.maxPhotos)

  // The board the config calls open is open.
  expect((await resident.api.board(town().townId, { limit: 1 })).limit).toBe(1)
})

test('a category\'s own questions: the form asks them in order, the service takes the answers the form sends', async () => {
  const resident = await wechatResident('mp-questions-resident', { name: '褚大爷' })
  const repair = (await resident.api.categories(town().townId)).items.find(c => c.id === town().categories.repair)
  // As the form reads them: a definition without `required` is optional, without `variable` a question.
  expect(repair.attributes.map(d => [d.code, d.datatype, d.required === true, d.variable !== false])).toEqual([
    ['notice', 'string', false, false],
    ['facility', 'singlevaluelist', true, true],
    ['count', 'number', false, true],
    ['hazard', 'multivaluelist', false, true],
    ['since', 'datetime', false, true],
  ])
  expect(repair.attributes.find(d => d.code === 'facility').values).toEqual(town().repairQuestions.find(d => d.code === 'facility').values)
  const questions = questionsOf(repair.attributes, {})
  expect(questions.filter(q => q.variable).map(q => q.description)).toEqual(['损坏的设施', '损坏数量', '存在的隐患', '发现时间'])

  // The form and the service agree on what is required.
  expect(problemOf(repair.attributes, {})).toBe('请回答：损坏的设施')
  const missing = await refusal(resident.api.placeOrder({ category_id: repair.id, description: '路灯不亮' }))
  expect(missing.status).toBe(422)
  expect(missing.message).toMatch(/[\u4e00-\u9fa5]/)
  const wrong = await refusal(resident.api.placeOrder({ category_id: repair.id, description: '路灯不亮', attributes: { facility: 'bridge' } }))
  expect(wrong.status).toBe(422)

  const answers = answersToSend(repair.attributes, {
    facility: 'streetlight', count: ' 2 ', hazard: ['traffic', 'dark'], since: datetimeAnswer('2026-11-20', '19:30'),
  })
  expect(problemOf(repair.attributes, answers)).toBe('')
  const { order } = await resident.api.placeOrder({ category_id: repair.id, description: '桥头两盏路灯不亮', attributes: answers })
  expect(order.attributes).toEqual({ facility: 'streetlight', count: '2', hazard: ['dark', 'traffic'], since: '2026-11-20T19:30:00+08:00' })
  expect((await resident.api.order(order.id)).attributes).toEqual(order.attributes)
})

test('"me too": a second resident near the first finds the order, follows it, is told of its claim, and unfollows', async () => {
  const first = await wechatResident('mp-metoo-first', { name: '蒋奶奶' })
  const second = await wechatResident('mp-metoo-second', { name: '沈大哥' })
  const far = await wechatResident('mp-metoo-far', { name: '韩阿姨' })
  const category = town().categories.repair
  const { order } = await first.api.placeOrder({
    category_id: category, description: '菜场门口的路灯坏了,晚上买菜回来很黑,老人容易摔倒,希望尽快修一下,谢谢网格员', ...HERE,
    address: '青山镇菜场门口', attributes: { facility: 'streetlight' },
  })

  // 30 m away: offered, with how far and how many follow it; nothing of its placer.
  const near = metresNorth(HERE, 30)
  const offered = await second.api.nearby(category, near.latitude, near.longitude)
  expect(offered.radius_m).toBe(town().nearbyRadiusM)
  const item = offered.items.find(i => i.id === order.id)
  expect(item).toMatchObject({
    state_label: '待领单', summary: order.description.slice(0, 60), follower_count: 0, mine: false, following: false,
    category: { id: category, name: '基础设施维修' },
  })
  expect(item.distance_m).toBeGreaterThan(25)
  expect(item.distance_m).toBeLessThan(35)
  expect(JSON.stringify(item)).not.toContain('蒋奶奶')
  // Its placer sees it as theirs; beyond the town's radius it is not offered, nor followed.
  expect((await first.api.nearby(category, HERE.latitude, HERE.longitude)).items.find(i => i.id === order.id).mine).toBe(true)
  const away = metresNorth(HERE, town().nearbyRadiusM + 50)
  expect((await far.api.nearby(category, away.latitude, away.longitude)).items.map(i => i.id)).not.toContain(order.id)
  const tooFar = await refusal(far.api.follow(order.id, away.latitude, away.longitude))
  expect(tooFar.status).toBe(422)
  expect(tooFar.message).toBe(`工单 ${order.id} 不是您附近正在办理的诉求`)
  // A category the town keeps private (a household's matter) is nobody else's to find nearby.
  const privateCategory = await refusal(second.api.nearby(town().categories.help, near.latitude, near.longitude))
  expect(privateCategory.status).toBe(422)
  expect(privateCategory.message).toBe(`类别 ${town().categories.help} 不是本镇公开的类别，不能查看附近诉求`)

  const followed = await second.api.follow(order.id, near.latitude, near.longitude)
  expect(followed).toMatchObject({
    id: order.id, following: true, follower_count: 1, allowed_actions: [], contact_name: null, contact_phone: null, address: null,
  })
  // Following twice changes nothing.
  expect((await second.api.follow(order.id, near.latitude, near.longitude)).follower_count).toBe(1)
  expect((await second.api.nearby(category, near.latitude, near.longitude)).items.find(i => i.id === order.id)).toMatchObject({ following: true, follower_count: 1 })

  const listed = (await second.api.orders({ limit: 100 })).items.find(o => o.id === order.id)
  expect(listed).toMatchObject({ following: true, contact_name: null, contact_phone: null, allowed_actions: [] })
  const own = (await first.api.orders({ limit: 100 })).items.find(o => o.id === order.id)
  expect(own).toMatchObject({ following: false, follower_count: 1, contact_name: '蒋奶奶', allowed_actions: ['cancel'] })

  // The claim is news for the follower too: in the inbox, and by the subscribe template the config named.
  await grid.api.claim(order.id)
  const notice = await eventually(async () => (await second.api.inbox({ limit: 50 })).items.find(n => n.order_id === order.id))
  expect(notice.title.startsWith('您关注的')).toBe(true)
  expect(notice.read).toBe(false)
  const templateIds = (await createClientConfig(second.api)(town().townId)).templateIds
  const sent = await eventually(async () => (await calls()).find(c => c.path === '/cgi-bin/message/subscribe/send' && c.body.touser === 'mp-metoo-second'))
  expect(templateIds).toContain(sent.body.template_id)
  expect(sent.body.template_id).toBe(SERVICE.templates['order.claim'].template_id)
  expect(sent.body.page).toBe(`pages/order-detail/order-detail?id=${order.id}`)

  await second.api.unfollow(order.id)
  expect((await second.api.orders({ limit: 100 })).items.map(o => o.id)).not.toContain(order.id)
  const gone = await refusal(second.api.order(order.id))
  expect([403, 404]).toContain(gone.status)
  expect((await first.api.order(order.id)).follower_count).toBe(0)
  // A resident's own order cannot be followed.
  const ownFollow = await refusal(first.api.follow(order.id, HERE.latitude, HERE.longitude))
  expect(ownFollow.message).toBe('这是您自己的诉求')
})

test('a duplicate rejected with duplicate_of_id makes its placer a follower of the original', async () => {
  const original = await wechatResident('mp-dup-original', { name: '杨大爷' })
  const again = await wechatResident('mp-dup-again', { name: '朱阿姨' })
  const spot = metresNorth(HERE, 400)
  const first = (await original.api.placeOrder({
    category_id: town().categories.repair, description: '小学门口的道路塌了个坑', ...spot, attributes: { facility: 'road' },
  })).order
  const duplicate = (await again.api.placeOrder({
    category_id: town().categories.repair, description: '学校门口路上有个大坑', ...metresNorth(spot, 10), attributes: { facility: 'road' },
  })).order

  const itself = await refusal(grid.api.reject(duplicate.id, '重复', duplicate.id))
  expect(itself.status).toBe(422)
  expect(itself.message).toBe('工单不能是自己的重复单')

  const rejected = await grid.api.reject(duplicate.id, '与小学门口道路那单是同一个坑', first.id)
  expect(rejected).toMatchObject({ state: 'rejected', state_label: '不予受理', duplicate_of_id: first.id })

  const shown = await again.api.order(duplicate.id)
  expect(shown).toMatchObject({ duplicate_of_id: first.id, state_label: '不予受理', following: false })
  const mine = (await again.api.orders({ limit: 100 })).items
  expect(mine.find(o => o.id === first.id)).toMatchObject({ following: true, contact_name: null })
  expect(mine.find(o => o.id === duplicate.id)).toMatchObject({ following: false, duplicate_of_id: first.id })
  expect(await again.api.order(first.id)).toMatchObject({ following: true, allowed_actions: [] })
  expect((await original.api.order(first.id)).follower_count).toBe(1)
})
