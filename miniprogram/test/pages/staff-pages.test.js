const { installWx } = require('../support/wx')
const { openPage, textOf, all, tap, input, settle } = require('../support/render')
const { detail, order, problem, clientConfig, ME } = require('../support/fixtures')

const SUGGESTIONS = {
  order_id: 13,
  household: { id: 4, address: '东湖村3组12号', building_id: null },
  items: [
    { member: { id: 7, name: '李秀英' }, is_local_worthy: false, score: 60, reasons: [{ code: 'paired', label: '联系该户', value: 1, weight: 40 }, { code: 'open-orders', label: '当前在办', value: 0, weight: 20 }] },
    { member: { id: 33, name: '乡贤老周' }, is_local_worthy: true, score: 20, reasons: [{ code: 'open-orders', label: '当前在办', value: 0, weight: 20 }] },
  ],
}

describe('支部派单 page', () => {
  test('lists the service\'s suggestions with their reasons and dispatches to the one chosen', async () => {
    const fake = installWx({
      routes: {
        'GET /orders/13': () => ({ data: detail({ state: 'claimed' }) }),
        'GET /orders/13/dispatch-suggestions': () => ({ data: SUGGESTIONS }),
        'POST /orders/13/dispatch': () => ({ data: order({ state: 'dispatched', assignee: { id: 33, name: '乡贤老周' } }) }),
      },
    })
    fake.signIn({ kind: 'staff', role: 'secretary', userId: 2 })
    const page = await openPage('pages/dispatch/dispatch', { id: '13' })
    const text = textOf(page)
    expect(text).toContain('关联户：东湖村3组12号')
    expect(all(page, '.member-name').map(n => n.dom.textContent)).toEqual(['李秀英', '乡贤老周'])
    expect(text).toContain('联系该户 1（+40）；当前在办 0（+20）')
    expect(text).toContain('推荐')
    expect(text).toContain('乡贤')

    await tap(page, '.dispatch')
    expect(textOf(page)).toContain('请选择承办党员')
    await tap(page, '.member-33')
    await input(page, '.dispatch-note', '请今天下午去看一下')
    await tap(page, '.dispatch')
    expect(fake.requestsTo('POST /orders/13/dispatch')[0].body).toEqual({ member_id: 33, note: '请今天下午去看一下' })
    expect(fake.calls.toasts).toEqual(['已派给乡贤老周'])
    expect(fake.calls.navigations).toEqual([{ how: 'navigateBack' }])
  })
})

describe('党员晒单 page', () => {
  test('needs a note and a photo, uploads it and completes with its id', async () => {
    const fake = installWx({
      routes: {
        'GET /orders/13': () => ({ data: detail({ state: 'in_progress' }) }),
        'GET /me': () => ({ data: ME.member }),
        'GET /towns/1/client-config': () => ({ data: clientConfig({ photos_per_order: 3 }) }),
        'UPLOAD /photos': () => ({ status: 201, data: { id: 'EvidencePhoto_0123456789abcdef', url: '/photos/EvidencePhoto_0123456789abcdef/signed?expires=1&signature=x' } }),
        'POST /orders/13/complete': () => ({ data: order({ state: 'completed' }) }),
      },
    })
    fake.signIn({ kind: 'staff', role: 'member', userId: 6 })
    fake.pickers.media.push('http://tmp/done.jpg')
    const page = await openPage('pages/complete/complete', { id: '13' })
    expect(textOf(page)).toContain('村委会门口的路灯坏了三盏,晚上很黑')
    expect(textOf(page)).toContain('办理照片（至少1张，最多3张）')

    await input(page, '.completion-note', '三盏路灯已更换灯泡')
    await tap(page, '.submit')
    expect(textOf(page)).toContain('请至少上传一张办理照片')

    await tap(page.querySelector('.photo-picker'), '.photo-add')
    await settle()
    expect(fake.calls.chooseMediaCount).toBe(3) // the town's photos_per_order
    await tap(page, '.submit')
    expect(fake.requestsTo('POST /orders/13/complete')[0].body).toEqual({ note: '三盏路灯已更换灯泡', photo_ids: ['EvidencePhoto_0123456789abcdef'] })
    expect(fake.calls.navigations).toEqual([{ how: 'navigateBack' }])
  })

  test('a failed upload shows the service\'s reason and is sent again on retry', async () => {
    let uploads = 0
    const fake = installWx({
      routes: {
        'GET /orders/13': () => ({ data: detail({ state: 'in_progress' }) }),
        'GET /me': () => ({ data: ME.member }),
        'GET /towns/1/client-config': () => ({ data: clientConfig() }),
        'UPLOAD /photos': () => {
          uploads += 1
          return uploads === 1
            ? { ...problem(415, 'unsupported-media-type', '不支持的文件类型', '只接受 JPEG、PNG 和 WebP 图片') }
            : { status: 201, data: { id: 'EvidencePhoto_0123456789abcdef', url: '/photos/x/signed' } }
        },
      },
    })
    fake.signIn({ kind: 'staff', role: 'member', userId: 6 })
    fake.pickers.media.push('http://tmp/done.gif')
    const page = await openPage('pages/complete/complete', { id: '13' })
    const picker = page.querySelector('.photo-picker')
    await tap(picker, '.photo-add')
    expect(textOf(picker)).toContain('只接受 JPEG、PNG 和 WebP 图片')
    expect(page.instance.data.photoIds).toEqual([])

    await tap(picker, '.photo-retry')
    expect(uploads).toBe(2)
    expect(page.instance.data.photoIds).toEqual(['EvidencePhoto_0123456789abcdef'])
    expect(textOf(picker)).not.toContain('上传失败')
  })
})
