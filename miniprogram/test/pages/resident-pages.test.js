const { installWx } = require('../support/wx')
const { openPage, textOf, all, tap, input, settle } = require('../support/render')
const { ME, GRIDS, page, problem, clientConfig } = require('../support/fixtures')

const BOARD_ITEM = {
  id: 13, category: { id: 1, name: '基础设施维修' }, grid: { id: 1, name: '东湖村第一网格' }, branch: { id: 1, name: '东湖村党支部' },
  state: 'closed', state_label: '已办结', completed_at: '2026-11-21T20:12:22Z', completion_note: '三盏路灯已更换灯泡,晚上试过都亮了',
  member: { id: 6, name: '王建国' }, photos: [{ id: 'UhsAeBVu_hLPqdo_aR5vURPbs2cwuXP6', url: '/public/photos/UhsAeBVu_hLPqdo_aR5vURPbs2cwuXP6' }],
  rating: { stars: 5, source: 'resident' },
}

describe('晒单墙 page', () => {
  test('shows the member, the note, the stars and the public photo, without sign-in', async () => {
    const fake = installWx({
      routes: {
        'GET /towns/1/client-config': () => ({ data: clientConfig() }),
        'GET /public/towns/1/board': () => ({ data: page([BOARD_ITEM]) }),
      },
    })
    const board = await openPage('pages/board/board')
    const text = textOf(board)
    expect(text).toContain('王建国')
    expect(text).toContain('三盏路灯已更换灯泡,晚上试过都亮了')
    expect(text).toContain('★★★★★')
    expect(text).toContain('东湖村党支部 · 东湖村第一网格')
    expect(all(board, '.photo')[0].dom.getAttribute('data-url')).toBe('http://127.0.0.1:8000/public/photos/UhsAeBVu_hLPqdo_aR5vURPbs2cwuXP6')
    expect(fake.requestsTo('GET /public/towns/1/board')[0].headers.Authorization).toBeUndefined()
  })

  test('a town whose client config has the board off says so without asking for it', async () => {
    const fake = installWx({ routes: { 'GET /towns/1/client-config': () => ({ data: clientConfig({ public_board_enabled: false }) }) } })
    const board = await openPage('pages/board/board')
    expect(textOf(board)).toContain('本镇暂未开放晒单墙')
    expect(fake.requestsTo('GET /public/towns/1/board')).toHaveLength(0)
  })

  test('a board turned off since the config was read answers 404, shown the same way', async () => {
    installWx({
      routes: {
        'GET /towns/1/client-config': () => ({ data: clientConfig() }),
        'GET /public/towns/1/board': () => problem(404, 'not-found', '未找到', '青山镇没有公开的晒单墙'),
      },
    })
    const board = await openPage('pages/board/board')
    expect(textOf(board)).toContain('本镇暂未开放晒单墙')
  })
})

describe('消息 page', () => {
  test('lists notices, marks one read when opened and opens its order; 全部已读', async () => {
    const fake = installWx({
      routes: {
        'GET /me/inbox': () => ({
          data: page([
            { id: 70, kind: 'order.dispatch', title: '支部已派党员为您办理', body: '工单 #16 困难帮扶 当前状态:待接单', order_id: 16, created_at: '2026-12-03T11:50:34Z', read: false },
            { id: 65, kind: 'order.claim', title: '您的诉求已被网格领单', body: '工单 #16 困难帮扶 当前状态:待派单', order_id: 16, created_at: '2026-12-03T11:40:34Z', read: false },
          ]),
        }),
        'GET /me/inbox/unread-count': () => ({ data: { unread: 2 } }),
        'POST /me/inbox/70/read': () => ({ status: 204, data: '' }),
        'POST /me/inbox/read-all': () => ({ data: { unread: 0 } }),
      },
    })
    fake.signIn()
    const inbox = await openPage('pages/inbox/inbox')
    expect(textOf(inbox)).toContain('未读 2 条')
    expect(textOf(inbox)).toContain('支部已派党员为您办理')

    await tap(inbox, '.notice-70')
    expect(fake.requestsTo('POST /me/inbox/70/read')).toHaveLength(1)
    expect(textOf(inbox)).toContain('未读 1 条')
    expect(fake.calls.navigations).toEqual([{ how: 'navigateTo', url: '/pages/order-detail/order-detail?id=16' }])

    await tap(inbox, '.read-all')
    expect(textOf(inbox)).toContain('未读 0 条')
    expect(all(inbox, '.notice-read')).toHaveLength(2)
  })
})

describe('我的资料 page', () => {
  test('binds the phone with the getPhoneNumber code, then saves name and grid', async () => {
    const fake = installWx({
      routes: {
        'GET /me': () => ({ data: { ...ME.resident, name: null, phone: null, grid: null, profile_complete: false } }),
        'GET /towns/1/grids': () => ({ data: GRIDS }),
        'PUT /me/profile': req => ({ data: { ...ME.resident, phone: req.body.phone_code ? '13700000001' : req.body.phone } }),
      },
    })
    fake.signIn()
    const profile = await openPage('pages/profile/profile', { first: '1' })
    expect(textOf(profile)).toContain('首次使用，请先完善资料')

    profile.querySelector('.bind-phone').dispatchEvent('getphonenumber', { detail: { code: 'phone-code-1' } })
    await settle()
    expect(fake.requestsTo('PUT /me/profile')[0].body).toEqual({ phone_code: 'phone-code-1' })
    expect(textOf(profile)).toContain('手机号已绑定，代为登记的工单会显示在「我的工单」')

    await tap(profile, '.save-profile')
    expect(textOf(profile)).toContain('请填写姓名')
    await input(profile, '.profile-name', '张大爷')
    profile.querySelector('.profile-grid').dispatchEvent('change', { detail: { value: '1' } })
    await settle()
    await tap(profile, '.save-profile')
    expect(fake.requestsTo('PUT /me/profile')[1].body).toEqual({ name: '张大爷', grid_id: 2, phone: '13700000001' })
    expect(fake.calls.navigations).toEqual([{ how: 'reLaunch', url: '/pages/index/index' }])
  })
})
