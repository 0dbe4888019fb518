const { installWx } = require('../support/wx')
const { openPage, textOf, all, tap, input, settle } = require('../support/render')
const { completedDetail, detail, order, GRIDS, ME, problem } = require('../support/fixtures')

function withOrder(body, routes = {}, person) {
  const fake = installWx({ routes: { 'GET /orders/13': () => ({ data: body }), ...routes } })
  fake.signIn(person)
  return fake
}

describe('order detail', () => {
  test('shows the state, the member\'s 晒单 with its photo, and the timeline', async () => {
    const fake = withOrder(completedDetail())
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    const text = textOf(shown)
    expect(text).toContain('#13')
    expect(text).toContain('待评价')
    expect(text).toContain('党员晒单 · 王建国')
    expect(text).toContain('三盏路灯已更换灯泡,晚上试过都亮了')
    expect(text).toContain('紧急程度：一般')
    const evidence = all(shown, '.evidence-photo')
    expect(evidence).toHaveLength(1)
    // j-component keeps no properties of built-in <image>; data-url is bound to the same value as src.
    expect(evidence[0].dom.getAttribute('data-url')).toBe('http://127.0.0.1:8000/photos/UhsAeBVu_hLPqdo_aR5vURPbs2cwuXP6/signed?expires=1796301000&signature=abc')
    const steps = all(shown.querySelector('.order-timeline'), '.event-action').map(node => node.dom.textContent)
    expect(steps).toEqual(['群众点单', '网格领单', '支部派单', '党员接单', '党员晒单'])
    expect(text).toContain('支部书记 东湖村书记')
    expect(text).toContain('请今天下午去看一下')
    expect(all(shown, '.action').map(b => b.dom.textContent)).toEqual(['评价'])
    expect(fake.requestsTo('GET /orders/13')).toHaveLength(1)

    await tap(shown, '.evidence-photo')
    expect(fake.calls.previews[0].urls).toEqual([evidence[0].dom.getAttribute('data-url')])
  })

  test('rating: the hint says that one or two stars send it back, and the stars are sent', async () => {
    const fake = withOrder(completedDetail(), {
      'POST /orders/13/rate': () => ({ data: order({ state: 'claimed', reopen_count: 1 }) }),
    })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    await tap(shown, '.action-rate')
    expect(textOf(shown)).toContain('评1–2星，工单将退回支部重新办理（重办）；3–5星则办结。')
    await tap(shown, '.confirm')
    expect(textOf(shown)).toContain('请选择星级')

    const stars = shown.querySelector('.rate-stars')
    await tap(stars, '.star-2')
    expect(textOf(stars)).toContain('不满意：工单将退回支部重新办理')
    await input(shown, '.comment', '楼上还在漏')
    await tap(shown, '.confirm')

    expect(fake.requestsTo('POST /orders/13/rate')[0].body).toEqual({ stars: 2, comment: '楼上还在漏' })
    expect(fake.calls.toasts).toEqual(['已待派单'])
    expect(fake.requestsTo('GET /orders/13')).toHaveLength(2) // read again for the new timeline
  })

  test('a resident cancels with an optional reason', async () => {
    const fake = withOrder(detail({ allowed_actions: ['cancel'] }), {
      'POST /orders/13/cancel': () => ({ data: order({ state: 'cancelled' }) }),
    })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    await tap(shown, '.action-cancel')
    await tap(shown, '.confirm')
    expect(fake.requestsTo('POST /orders/13/cancel')[0].body).toEqual({})
  })

  test('a grid worker claims, and a claim that lost the race shows the service\'s 409', async () => {
    let claims = 0
    const fake = withOrder(detail({ allowed_actions: ['claim', 'reject', 'transfer'] }), {
      'POST /orders/13/claim': () => {
        claims += 1
        return problem(409, 'invalid-transition', '当前状态不能进行此操作', '工单已是「待派单」，不能「网格领单」', { current_state: 'claimed', allowed_actions: [] })
      },
    }, { kind: 'staff', role: 'grid_worker', userId: 3 })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    expect(all(shown, '.action').map(b => b.dom.textContent)).toEqual(['领单', '不予受理', '转交网格'])
    await tap(shown, '.action-claim')
    expect(claims).toBe(1)
    expect(fake.requestsTo('POST /orders/13/claim')[0].headers.Authorization).toBe('Bearer access-1')
    expect(textOf(shown)).toContain('工单已是「待派单」，不能「网格领单」')
    expect(fake.requestsTo('GET /orders/13')).toHaveLength(2)
  })

  test('reject needs a reason; transfer needs a grid and a reason', async () => {
    const fake = withOrder(detail({ allowed_actions: ['claim', 'reject', 'transfer'] }), {
      'POST /orders/13/reject': () => ({ data: order({ state: 'rejected' }) }),
      'POST /orders/13/transfer': () => ({ data: order({ grid: { id: 2, name: '东湖村第二网格' } }) }),
      'GET /me': () => ({ data: ME.grid_worker }),
      'GET /towns/1/grids': () => ({ data: GRIDS }),
    }, { kind: 'staff', role: 'grid_worker', userId: 3 })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })

    await tap(shown, '.action-reject')
    await tap(shown, '.confirm')
    expect(textOf(shown)).toContain('请填写原因')
    await input(shown, '.reason', '与12号工单重复')
    await tap(shown, '.confirm')
    expect(fake.requestsTo('POST /orders/13/reject')[0].body).toEqual({ reason: '与12号工单重复' })

    await tap(shown, '.action-transfer')
    expect(shown.instance.data.grids.map(g => g.name)).toEqual(['东湖村第二网格', '柳营村第一网格'])
    await input(shown, '.reason', '地址在第二网格')
    await tap(shown, '.confirm')
    expect(textOf(shown)).toContain('请选择转交的网格')
    shown.querySelector('.transfer-grid').dispatchEvent('change', { detail: { value: '0' } })
    await settle()
    await tap(shown, '.confirm')
    expect(fake.requestsTo('POST /orders/13/transfer')[0].body).toEqual({ grid_id: 2, reason: '地址在第二网格' })
  })

  test('a member accepts at once; dispatch and complete open their own pages', async () => {
    const fake = withOrder(detail({ state: 'dispatched', allowed_actions: ['accept', 'decline'] }), {
      'POST /orders/13/accept': () => ({ data: order({ state: 'in_progress' }) }),
    }, { kind: 'staff', role: 'member', userId: 6 })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    await tap(shown, '.action-accept')
    expect(fake.requestsTo('POST /orders/13/accept')).toHaveLength(1)
    expect(fake.calls.toasts).toEqual(['已办理中'])

    const secretaryFake = withOrder(detail({ state: 'claimed', allowed_actions: ['dispatch', 'post_task', 'whistle'] }), {}, { kind: 'staff', role: 'secretary', userId: 2 })
    const forSecretary = await openPage('pages/order-detail/order-detail', { id: '13' })
    expect(all(forSecretary, '.action').map(b => b.dom.textContent)).toEqual(['派单'])
    await tap(forSecretary, '.action-dispatch')
    expect(secretaryFake.calls.navigations).toEqual([{ how: 'navigateTo', url: '/pages/dispatch/dispatch?id=13' }])
  })

  test('the grid worker\'s callback rating is labelled as such', async () => {
    withOrder(completedDetail({ placed_on_behalf: true, channel: 'phone', channel_label: '电话' }), {}, { kind: 'staff', role: 'grid_worker', userId: 3 })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    expect(textOf(shown)).toContain('代点单（电话）：张大爷')
    await tap(shown, '.action-rate')
    expect(textOf(shown)).toContain('回访评价：记录群众的评分')
  })

  test('a reject may name the order it duplicates (重复工单) by its number', async () => {
    const fake = withOrder(detail({ allowed_actions: ['claim', 'reject', 'transfer'] }), {
      'POST /orders/13/reject': () => ({ data: order({ state: 'rejected', duplicate_of_id: 12 }) }),
    }, { kind: 'staff', role: 'grid_worker', userId: 3 })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    await tap(shown, '.action-reject')
    expect(shown.querySelector('.duplicate-number')).toBeFalsy()
    await tap(shown, '.duplicate-toggle')
    expect(textOf(shown)).toContain('提交后，本单群众将关注原工单并收到它的办理进展。')
    await input(shown, '.reason', '与村委会门口路灯那单是同一件事')
    await tap(shown, '.confirm')
    expect(textOf(shown)).toContain('请填写原工单编号')
    await input(shown, '.duplicate-number', '13')
    await tap(shown, '.confirm')
    expect(textOf(shown)).toContain('不能是本工单自己的编号')
    expect(fake.requestsTo('POST /orders/13/reject')).toHaveLength(0)

    await input(shown, '.duplicate-number', '#12')
    await tap(shown, '.confirm')
    expect(fake.requestsTo('POST /orders/13/reject')[0].body).toEqual({ reason: '与村委会门口路灯那单是同一件事', duplicate_of_id: 12 })
  })

  test('an order the resident follows is marked 关注, offers 取消关注 and nothing else', async () => {
    const followed = detail({
      id: 13, state: 'claimed', following: true, follower_count: 2, contact_name: null, contact_phone: null, address: null,
      allowed_actions: [], urgency: 'urgent',
    })
    const fake = withOrder(followed, { 'DELETE /orders/13/follow': () => ({ status: 204, data: '' }) })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    const text = textOf(shown)
    expect(shown.querySelector('.tag-following').dom.textContent).toBe('关注')
    expect(text).toContain('您关注了这条诉求（我也遇到了），办理进展会通知您。')
    expect(text).toContain('2位群众也遇到了（关注）')
    expect(text).toContain('紧急程度：紧急')
    expect(text).not.toContain('地址：')
    expect(all(shown, '.action')).toHaveLength(0)

    await tap(shown, '.unfollow')
    expect(fake.requestsTo('DELETE /orders/13/follow')).toHaveLength(1)
    expect(fake.requestsTo('DELETE /orders/13/follow')[0].headers.Authorization).toBe('Bearer access-1')
    expect(fake.calls.toasts).toEqual(['已取消关注'])
    expect(fake.calls.navigations).toEqual([{ how: 'navigateBack' }])
  })

  test('the resident\'s own order has no 关注 mark nor 取消关注', async () => {
    withOrder(detail({ allowed_actions: ['cancel'], follower_count: 1 }))
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    expect(shown.querySelector('.tag-following')).toBeFalsy()
    expect(shown.querySelector('.unfollow')).toBeFalsy()
    expect(textOf(shown)).toContain('1位群众也遇到了（关注）')
  })

  test('a duplicate links to its original', async () => {
    const fake = withOrder(detail({ state: 'rejected', duplicate_of_id: 12, allowed_actions: [] }))
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    expect(textOf(shown)).toContain('不予受理')
    expect(textOf(shown)).toContain('重复工单，已并入原工单 #12')
    await tap(shown, '.duplicate-of')
    expect(fake.calls.navigations).toEqual([{ how: 'navigateTo', url: '/pages/order-detail/order-detail?id=12' }])
  })

  test('an order from the city platform (Open311) says where it came from', async () => {
    withOrder(detail({ channel: 'open311', channel_label: '城市平台', contact_name: null, contact_phone: null }), {}, { kind: 'staff', role: 'grid_worker', userId: 3 })
    const shown = await openPage('pages/order-detail/order-detail', { id: '13' })
    expect(textOf(shown)).toContain('来源：城市平台')
    expect(textOf(shown)).not.toContain('代点单')
  })
})
