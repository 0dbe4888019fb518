const { installWx } = require('../support/wx')
const { openPage, textOf, tap, input } = require('../support/render')
const { tokens, problem } = require('../support/fixtures')

describe('登录 page', () => {
  test('a resident signs in with the code of wx.login and lands on the home page', async () => {
    const fake = installWx({ routes: { 'POST /auth/wechat': () => ({ status: 200, data: tokens('resident', 'resident', 7) }) } })
    const page = await openPage('pages/login/login')
    expect(textOf(page)).toContain('微信一键登录')

    await tap(page, '.sign-in-wechat')

    expect(fake.calls.logins).toBe(1)
    const [signIn] = fake.requestsTo('POST /auth/wechat')
    expect(signIn.body).toEqual({ code: 'wx-code-1' })
    expect(signIn.headers['Accept-Language']).toBe('zh-CN')
    expect(signIn.headers.Authorization).toBeUndefined()
    expect(JSON.parse(fake.storage.get('wudan.session'))).toMatchObject({ accessToken: 'access-resident', refreshToken: 'refresh-resident', role: 'resident' })
    expect(fake.calls.navigations).toEqual([{ how: 'reLaunch', url: '/pages/index/index' }])
  })

  test('staff sign in with phone and password; a refusal shows the service\'s Chinese message', async () => {
    const fake = installWx({
      routes: { 'POST /auth/staff': () => problem(401, 'sign-in-failed', '登录失败', '手机号或密码不正确') },
    })
    const page = await openPage('pages/login/login')
    await tap(page, '.tab-staff')
    await tap(page, '.sign-in-staff')
    expect(textOf(page)).toContain('请输入手机号和密码')
    expect(fake.calls.requests).toHaveLength(0)

    await input(page, '.staff-phone', '13800000201')
    await input(page, '.staff-password', 'wrong')
    await tap(page, '.sign-in-staff')

    expect(fake.requestsTo('POST /auth/staff')[0].body).toEqual({ phone: '13800000201', password: 'wrong' })
    expect(textOf(page)).toContain('手机号或密码不正确')
    expect(fake.calls.navigations).toEqual([])
    expect(fake.storage.has('wudan.session')).toBe(false)
  })
})
