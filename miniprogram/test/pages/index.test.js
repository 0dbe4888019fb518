const { installWx } = require('../support/wx')
const { openPage, textOf, all, tap } = require('../support/render')
const { ME, clientConfig } = require('../support/fixtures')

describe('home page', () => {
  test('nobody signed in goes to the sign-in page without calling the service', async () => {
    const fake = installWx()
    await openPage('pages/index/index')
    expect(fake.calls.navigations).toEqual([{ how: 'redirectTo', url: '/pages/login/login' }])
    expect(fake.calls.requests).toHaveLength(0)
  })

  test('a resident whose profile is incomplete is sent to complete it first', async () => {
    const fake = installWx({ routes: { 'GET /me': () => ({ data: { ...ME.resident, name: null, grid: null, profile_complete: false } }) } })
    fake.signIn()
    await openPage('pages/index/index')
    expect(fake.calls.navigations).toEqual([{ how: 'redirectTo', url: '/pages/profile/profile?first=1' }])
  })

  test('a grid worker sees the entries of the role and the unread count', async () => {
    const fake = installWx({
      routes: {
        'GET /me': () => ({ data: ME.grid_worker }),
        'GET /me/inbox/unread-count': () => ({ data: { unread: 3 } }),
        'GET /towns/1/client-config': () => ({ data: clientConfig() }),
      },
    })
    fake.signIn({ kind: 'staff', role: 'grid_worker', userId: 3 })
    const page = await openPage('pages/index/index')
    const text = textOf(page)
    expect(text).toContain('东湖村第一网格网格员')
    expect(text).toContain('网格员')
    expect(all(page, '.entry').map(entry => entry.dom.textContent.trim())).toEqual(['待领单', '代点单', '待回访', '网格工单', '消息3'])
    expect(fake.requestsTo('GET /me')[0].headers.Authorization).toBe('Bearer access-1')

    await tap(page, '.entry-todo')
    expect(fake.calls.navigations).toEqual([{ how: 'navigateTo', url: '/pages/orders/orders?mode=todo' }])
  })

  test('a resident sees 晒单墙 only where the town\'s client config has the board on', async () => {
    const entriesWith = async boardEnabled => {
      const fake = installWx({
        routes: {
          'GET /me': () => ({ data: ME.resident }),
          'GET /me/inbox/unread-count': () => ({ data: { unread: 0 } }),
          'GET /towns/1/client-config': () => ({ data: clientConfig({ public_board_enabled: boardEnabled }) }),
        },
      })
      fake.signIn()
      const page = await openPage('pages/index/index')
      expect(fake.requestsTo('GET /towns/1/client-config')).toHaveLength(1)
      return all(page, '.entry').map(entry => entry.dom.textContent.trim())
    }
    expect(await entriesWith(true)).toEqual(['我要点单', '我的工单', '待评价', '晒单墙', '消息', '我的资料'])
    expect(await entriesWith(false)).toEqual(['我要点单', '我的工单', '待评价', '消息', '我的资料'])
  })
})
