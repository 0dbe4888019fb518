const { installWx } = require('../support/wx')
const { openPage, textOf, all, tap } = require('../support/render')
const { order, page } = require('../support/fixtures')

function ordersOf(ids, overrides = {}) {
  return ids.map(id => order({ id, ...overrides }))
}

describe('order lists', () => {
  test('我的工单: Chinese state labels from the service, overdue marks, newest first', async () => {
    const fake = installWx({
      routes: {
        'GET /orders': () => ({
          data: page([
            order({ id: 16, state: 'dispatched', state_label: '待接单', overdue: true, overdue_seconds: 190815 }),
            order({ id: 8, state: 'closed', state_label: '已办结', category: { id: 5, name: '环境卫生' }, description: '门前排水沟堵了' }),
          ], { total: 2 }),
        }),
      },
    })
    fake.signIn()
    const list = await openPage('pages/orders/orders', { mode: 'mine' })

    const [request] = fake.requestsTo('GET /orders')
    expect(request.query).toEqual({ sort: 'newest', limit: '20', offset: '0' })
    const cards = all(list, '.order-item')
    expect(cards).toHaveLength(2)
    expect(textOf(cards[0])).toContain('待接单')
    expect(textOf(cards[0])).toContain('已超时2天5小时')
    expect(textOf(cards[1])).toContain('已办结')
    expect(textOf(cards[1])).not.toContain('已超时')
    expect(textOf(list)).toContain('我的工单 · 共2单')
    expect(textOf(list)).toContain('没有更多了')

    await tap(cards[0], '.card')
    expect(fake.calls.navigations).toEqual([{ how: 'navigateTo', url: '/pages/order-detail/order-detail?id=16' }])
  })

  test('pages on reaching the bottom and starts again on pull-down', async () => {
    const fake = installWx({
      routes: {
        'GET /orders': req => {
          const offset = Number(req.query.offset)
          const ids = offset === 0 ? [45, 44, 43] : [43, 42] // an order placed meanwhile shifts the second page by one
          return { data: page(ordersOf(ids), { total: 5, limit: 3, offset }) }
        },
      },
    })
    fake.signIn()
    const list = await openPage('pages/orders/orders', { mode: 'mine' })
    expect(textOf(list)).toContain('上拉加载更多')

    await list.instance.onReachBottom()
    expect(fake.requestsTo('GET /orders')[1].query.offset).toBe('3')
    expect(all(list, '.order-item').map(card => textOf(card).match(/#(\d+)/)[1])).toEqual(['45', '44', '43', '42'])

    await list.instance.onPullDownRefresh()
    expect(fake.requestsTo('GET /orders')[2].query.offset).toBe('0')
    expect(all(list, '.order-item')).toHaveLength(3)
    expect(fake.calls.stopPullDownRefresh).toBe(1)
  })

  test('the resident\'s 待评价 tab asks for completed orders only', async () => {
    const fake = installWx({ routes: { 'GET /orders': () => ({ data: page([]) }) } })
    fake.signIn()
    const list = await openPage('pages/orders/orders', { mode: 'mine' })
    await tap(list, '.tab-rate')
    expect(fake.requestsTo('GET /orders')[1].query).toMatchObject({ state: 'completed' })
    await tap(list, '.tab-open')
    expect(fake.requestsTo('GET /orders')[2].query.state).toEqual(['submitted', 'claimed', 'dispatched', 'whistled', 'in_progress'])
    expect(textOf(list)).toContain('暂无工单')
  })

  test('a grid worker\'s 待领单 is the service\'s to-do list', async () => {
    const fake = installWx({
      routes: { 'GET /orders/todo': () => ({ data: page([order({ id: 1, overdue: true, overdue_seconds: 18000, description: '村口两盏路灯不亮,晚上走路看不清' })]) }) },
    })
    fake.signIn({ kind: 'staff', role: 'grid_worker', userId: 3 })
    const list = await openPage('pages/orders/orders', { mode: 'todo' })
    expect(fake.requestsTo('GET /orders/todo')).toHaveLength(1)
    expect(textOf(list)).toContain('待领单 · 共1单')
    expect(textOf(list)).toContain('村口两盏路灯不亮,晚上走路看不清')
    expect(textOf(list)).toContain('已超时5小时')
  })

  test('待回访 lists the grid worker\'s completed orders, oldest first', async () => {
    const fake = installWx({ routes: { 'GET /orders': () => ({ data: page([]) }) } })
    fake.signIn({ kind: 'staff', role: 'grid_worker', userId: 3 })
    await openPage('pages/orders/orders', { mode: 'callback' })
    expect(fake.requestsTo('GET /orders')[0].query).toMatchObject({ state: 'completed', sort: 'oldest' })
  })

  test('a failed read shows the service\'s message', async () => {
    const fake = installWx({ routes: { 'GET /orders/todo': () => 'fail' } })
    fake.signIn({ kind: 'staff', role: 'secretary', userId: 2 })
    const list = await openPage('pages/orders/orders', { mode: 'todo' })
    expect(textOf(list)).toContain('网络连接失败，请检查网络后再试')
  })

  test('an order the resident follows is marked 关注; one from the city platform names its channel', async () => {
    const fake = installWx({
      routes: {
        'GET /orders': () => ({
          data: page([
            order({ id: 16, state: 'claimed', following: true, follower_count: 2, contact_name: null, contact_phone: null, address: null }),
            order({ id: 15, urgency: 'urgent', channel: 'open311', channel_label: '城市平台' }),
            order({ id: 14 }),
          ]),
        }),
      },
    })
    fake.signIn()
    const list = await openPage('pages/orders/orders', { mode: 'mine' })
    const cards = all(list, '.order-item')
    expect(cards.map(card => !!card.querySelector('.tag-following'))).toEqual([true, false, false])
    expect(textOf(cards[0])).toContain('关注')
    expect(textOf(cards[1])).toContain('城市平台')
    expect(textOf(cards[1])).toContain('紧急') // the order's own urgency_label
    expect(textOf(cards[2])).not.toContain('小程序')
    expect(textOf(cards[2])).not.toContain('关注')
  })
})
