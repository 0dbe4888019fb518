const { installWx } = require('../support/wx')
const { openPage, textOf, all, tap, input, settle } = require('../support/render')
const { ME, CATEGORIES, GRIDS, order, detail, clientConfig, nearby, nearbyOrder, problem } = require('../support/fixtures')

const PHOTO = { id: 'trBKv8a6hAZlCZ8W0-qLvSRBYSCikVqp', url: '/photos/trBKv8a6hAZlCZ8W0-qLvSRBYSCikVqp/signed?expires=1796301000&signature=f69I', url_expires_at: '2026-12-03T12:30:00Z', content_type: 'image/png', size: 74 }

function residentWx(extra = {}, script = {}) {
  const fake = installWx({
    ...script,
    routes: {
      'GET /me': () => ({ data: ME.resident }),
      'GET /towns/1/categories': () => ({ data: CATEGORIES }),
      'GET /towns/1/client-config': () => ({ data: clientConfig() }),
      'UPLOAD /photos': () => ({ status: 201, data: PHOTO }),
      'POST /orders': req => ({ status: 201, data: order({ id: 21, description: req.body.description }) }),
      ...extra,
    },
  })
  fake.signIn()
  return fake
}

async function fillIn(page) {
  page.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '1' } })
  await settle()
  await input(page, '.description', '屋顶漏雨,卧室的墙都湿了')
}

describe('我要点单 page', () => {
  test('offers the service\'s categories and urgencies, and takes the category\'s urgency until one is picked', async () => {
    const fake = residentWx({ 'GET /towns/1/client-config': () => ({ data: clientConfig({ urgency_labels: { normal: '普通', urgent: '加急' } }) }) })
    const page = await openPage('pages/order-new/order-new')
    expect(fake.requestsTo('GET /towns/1/categories')).toHaveLength(1)
    expect(fake.requestsTo('GET /towns/1/client-config')[0].headers.Authorization).toBeUndefined()
    // The urgency words are the town's client config's, not the client's own.
    expect(all(page, '.choice').map(node => node.dom.textContent)).toEqual(['普通', '加急'])
    expect(page.instance.data.categories.map(c => c.name)).toEqual(['基础设施维修', '房屋修缮', '困难帮扶'])
    expect(textOf(page)).toContain('请选择类别')

    await fillIn(page)
    expect(textOf(page)).toContain('房屋修缮')
    expect(textOf(page)).toContain('独居老人、困难家庭房屋漏雨、墙体破损')
    expect(page.querySelector('.urgency-urgent').dom.className).toContain('choice-on')

    await tap(page, '.urgency-normal')
    expect(page.querySelector('.urgency-normal').dom.className).toContain('choice-on')
  })

  test('uploads photos with progress, takes the chosen location and places the order with its key', async () => {
    const fake = residentWx({}, { holdUploads: true })
    fake.pickers.media.push('http://tmp/roof-1.jpg')
    fake.pickers.location = { name: '东湖村3组', address: '青山镇东湖村3组12号', latitude: 30.25, longitude: 120.16 }
    const page = await openPage('pages/order-new/order-new')
    await fillIn(page)

    const picker = page.querySelector('.photo-picker')
    await tap(picker, '.photo-add')
    expect(fake.calls.chooseMediaCount).toBe(clientConfig().photos_per_order)
    expect(textOf(page)).toContain('照片（最多6张）')
    expect(textOf(picker)).toContain('40%')
    await tap(page, '.submit')
    expect(textOf(page)).toContain('照片还在上传，请稍候')
    expect(fake.requestsTo('POST /orders')).toHaveLength(0)

    fake.releaseUploads()
    await settle()
    expect(textOf(picker)).not.toContain('%')
    expect(fake.calls.uploads[0]).toMatchObject({ path: '/photos', filePath: 'http://tmp/roof-1.jpg', name: 'file' })
    expect(fake.calls.uploads[0].headers.Authorization).toBe('Bearer access-1')
    expect(textOf(picker)).toContain('1/6')

    await tap(page, '.choose-location')
    expect(textOf(page)).toContain('已定位：30.25, 120.16')

    await tap(page, '.submit')
    const [placed] = fake.requestsTo('POST /orders')
    expect(placed.body).toEqual({
      category_id: 2,
      description: '屋顶漏雨,卧室的墙都湿了',
      urgency: 'urgent',
      address: '东湖村3组 青山镇东湖村3组12号',
      latitude: 30.25,
      longitude: 120.16,
      photo_ids: [PHOTO.id],
    })
    expect(placed.headers['Idempotency-Key']).toMatch(/^mp-[a-z0-9]+-[0-9a-f]{24}$/)
    expect(fake.calls.subscribes).toEqual([]) // the client config names no template ids
    expect(fake.calls.navigations).toEqual([{ how: 'redirectTo', url: '/pages/order-detail/order-detail?id=21' }])
    expect(fake.storage.has('wudan.draft.order')).toBe(false)
  })

  test('after a lost answer the retry sends the same Idempotency-Key, also from a reopened page', async () => {
    let attempts = 0
    const fake = residentWx({
      'POST /orders': () => {
        attempts += 1
        return attempts === 1 ? 'fail' : { status: 201, headers: { 'Idempotent-Replayed': 'true' }, data: order({ id: 22 }) }
      },
    })
    const page = await openPage('pages/order-new/order-new')
    await fillIn(page)
    await tap(page, '.submit')
    expect(textOf(page)).toContain('网络异常，未能确认是否提交成功。请再次点击提交，不会重复下单。')
    const firstKey = fake.requestsTo('POST /orders')[0].headers['Idempotency-Key']

    // The resident closes the page and comes back: the draft and its key are still there.
    const reopened = await openPage('pages/order-new/order-new')
    expect(reopened.instance.data.fields.description).toBe('屋顶漏雨,卧室的墙都湿了')
    await tap(reopened, '.submit')

    const keys = fake.requestsTo('POST /orders').map(req => req.headers['Idempotency-Key'])
    expect(keys).toEqual([firstKey, firstKey])
    expect(fake.calls.toasts).toContain('已提交过，未重复下单')
    expect(fake.storage.has('wudan.draft.order')).toBe(false)

    // The next order is a new draft with a new key.
    const next = await openPage('pages/order-new/order-new')
    expect(next.instance.draft.idempotencyKey).not.toBe(firstKey)
  })

  test('asks consent for the subscribe templates of the client config, then submits', async () => {
    const fake = residentWx({ 'GET /towns/1/client-config': () => ({ data: clientConfig({ subscribe_template_ids: ['tmpl-claimed', 'tmpl-completed'] }) }) })
    const page = await openPage('pages/order-new/order-new')
    await fillIn(page)
    await tap(page, '.submit')
    expect(fake.calls.subscribes).toEqual([['tmpl-claimed', 'tmpl-completed']])
    expect(fake.requestsTo('POST /orders')).toHaveLength(1)
  })

  test('refuses to submit without a category or description', async () => {
    const fake = residentWx()
    const page = await openPage('pages/order-new/order-new')
    await tap(page, '.submit')
    expect(textOf(page)).toContain('请选择诉求类别')
    expect(fake.requestsTo('POST /orders')).toHaveLength(0)
  })

  test('代点单: a grid worker records the resident, the channel and the grid', async () => {
    const fake = installWx({
      routes: {
        'GET /me': () => ({ data: ME.grid_worker }),
        'GET /towns/1/categories': () => ({ data: CATEGORIES }),
        'GET /towns/1/client-config': () => ({ data: clientConfig({ subscribe_template_ids: ['tmpl-claimed'] }) }),
        'POST /orders': () => ({ status: 201, data: order({ id: 30, placed_on_behalf: true }) }),
      },
    })
    fake.signIn({ kind: 'staff', role: 'grid_worker', userId: 3 })
    const page = await openPage('pages/order-new/order-new', { behalf: '1' })
    expect(textOf(page)).toContain('群众信息')
    expect(textOf(page)).toContain('东湖村第一网格') // the only grid served, chosen already
    page.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '2' } })
    await input(page, '.description', '低保户老李家需要过冬的棉衣')
    await tap(page, '.submit')
    expect(textOf(page)).toContain('请填写群众姓名')

    await input(page, '.contact-name', '老李')
    await input(page, '.contact-phone', '13911112222')
    await tap(page, '.channel-phone')
    await tap(page, '.submit')
    expect(fake.requestsTo('POST /orders')[0].body).toEqual({
      category_id: 3, description: '低保户老李家需要过冬的棉衣', urgency: 'normal',
      grid_id: 1, contact_name: '老李', contact_phone: '13911112222', channel: 'phone',
    })
    expect(fake.calls.subscribes).toEqual([]) // staff are not asked: the resident is told
  })

  test('a member placing on a resident\'s behalf chooses among the grids of their branch', async () => {
    const fake = installWx({
      routes: {
        'GET /me': () => ({ data: ME.member }),
        'GET /towns/1/categories': () => ({ data: CATEGORIES }),
        'GET /towns/1/client-config': () => ({ data: clientConfig() }),
        'GET /towns/1/grids': () => ({ data: GRIDS }),
      },
    })
    fake.signIn({ kind: 'staff', role: 'member', userId: 6 })
    const page = await openPage('pages/order-new/order-new', { behalf: '1' })
    expect(page.instance.data.grids.map(g => g.name)).toEqual(['东湖村第一网格', '东湖村第二网格'])
    expect(textOf(page)).toContain('请选择网格')
    page.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '2' } })
    await input(page, '.description', '需要过冬的棉衣')
    await tap(page, '.submit')
    expect(page.querySelector('.error').dom.textContent).toBe('请选择网格')
    expect(fake.requestsTo('POST /orders')).toHaveLength(0)
    page.querySelector('.grid-picker').dispatchEvent('change', { detail: { value: '1' } })
    await settle()
    expect(page.instance.data.fields.gridId).toBe(2)
  })

  test('asks the category\'s own questions in their order, each as its datatype, and sends the answers', async () => {
    const fake = residentWx()
    const page = await openPage('pages/order-new/order-new')
    page.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '0' } })
    await settle()
    await input(page, '.description', '村口的路灯不亮')

    // The note (variable: false, order 0) is shown first as text, then the questions by `order`.
    const text = textOf(page)
    expect(text).toContain('涉及用电危险的，请先远离并拨打95598')
    expect(all(page, '.question-label').map(node => node.dom.textContent)).toEqual([
      '*损坏的设施', '损坏数量', '杆号或门牌号', '存在的隐患', '发现时间', '补充说明',
    ])
    expect(page.querySelector('.answer-facility').dom.tagName).toBe('WX-PICKER')
    expect(page.querySelector('.answer-count').dom.tagName).toBe('WX-INPUT')
    expect(page.querySelector('.answer-details').dom.tagName).toBe('WX-TEXTAREA')
    expect(page.querySelector('.answer-hazard').dom.tagName).toBe('WX-CHECKBOX-GROUP')
    expect(all(page, '.choice-box').map(node => node.dom.textContent.trim())).toEqual(['夜间无照明', '漏电', '影响通行'])
    expect(page.querySelector('.note-notice')).toBeTruthy()
    expect(page.querySelector('.answer-notice')).toBeFalsy()

    // The required question is asked before anything is sent.
    await tap(page, '.submit')
    expect(page.querySelector('.error').dom.textContent).toBe('请回答：损坏的设施')
    expect(fake.requestsTo('POST /orders')).toHaveLength(0)

    page.querySelector('.answer-facility').dispatchEvent('change', { detail: { value: '0' } })
    await settle()
    expect(textOf(page.querySelector('.question-facility'))).toContain('路灯')
    await input(page, '.answer-count', '三')
    await tap(page, '.submit')
    expect(page.querySelector('.error').dom.textContent).toBe('「损坏数量」请填写数字')

    await input(page, '.answer-count', ' 3 ')
    await input(page, '.answer-pole_no', 'DH-017')
    page.querySelector('.answer-hazard').dispatchEvent('change', { detail: { value: ['traffic', 'dark'] } })
    page.querySelector('.answer-date').dispatchEvent('change', { detail: { value: '2026-11-20' } })
    await settle()
    page.querySelector('.answer-time').dispatchEvent('change', { detail: { value: '19:30' } })
    await settle()
    expect(textOf(page.querySelector('.question-since'))).toContain('2026-11-20')
    expect(textOf(page.querySelector('.question-since'))).toContain('19:30')
    await tap(page, '.submit')

    const [placed] = fake.requestsTo('POST /orders')
    expect(placed.body).toEqual({
      category_id: 1,
      description: '村口的路灯不亮',
      urgency: 'normal',
      attributes: {
        facility: 'streetlight',
        count: '3', // the service keeps answers as text
        pole_no: 'DH-017',
        hazard: ['dark', 'traffic'], // keys, in the order of the choices
        since: '2026-11-20T19:30:00+08:00',
      },
    })
  })

  test('the answers are part of the draft: kept with its key when the page is reopened, dropped with another category', async () => {
    const fake = residentWx({ 'POST /orders': () => 'fail' })
    const page = await openPage('pages/order-new/order-new')
    page.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '0' } })
    await settle()
    await input(page, '.description', '路面塌了一个坑')
    page.querySelector('.answer-facility').dispatchEvent('change', { detail: { value: '1' } })
    await settle()
    await input(page, '.answer-details', '在桥头往东十米')
    await tap(page, '.submit')
    const firstKey = fake.requestsTo('POST /orders')[0].headers['Idempotency-Key']

    const reopened = await openPage('pages/order-new/order-new')
    expect(textOf(reopened.querySelector('.question-facility'))).toContain('道路')
    expect(reopened.instance.data.questions.find(q => q.code === 'details').value).toBe('在桥头往东十米')
    await tap(reopened, '.submit')
    const retried = fake.requestsTo('POST /orders')[1]
    expect(retried.headers['Idempotency-Key']).toBe(firstKey)
    expect(retried.body.attributes).toEqual({ facility: 'road', details: '在桥头往东十米' })

    // Another category asks nothing of this: its answers are not sent along.
    reopened.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '2' } })
    await settle()
    expect(all(reopened, '.question')).toHaveLength(0)
    await tap(reopened, '.submit')
    expect(fake.requestsTo('POST /orders')[2].body.attributes).toBeUndefined()
    expect(fake.storage.has('wudan.draft.order')).toBe(true) // nothing was placed yet
  })

  test('a photo larger than the service takes is not uploaded and says so', async () => {
    const fake = residentWx({ 'GET /towns/1/client-config': () => ({ data: clientConfig({ photo_max_bytes: 1048576 }) }) })
    fake.pickers.media.push({ path: 'http://tmp/huge.jpg', size: 3 * 1048576 }, 'http://tmp/small.jpg')
    const page = await openPage('pages/order-new/order-new')
    const picker = page.querySelector('.photo-picker')
    await tap(picker, '.photo-add')
    await settle()
    expect(textOf(picker)).toContain('照片超过1MB，请删除后换一张')
    expect(fake.calls.uploads.map(u => u.filePath)).toEqual(['http://tmp/small.jpg'])
    expect(page.instance.data.photoIds).toEqual([PHOTO.id])
    expect(picker.querySelector('.photo-retry')).toBeFalsy() // sending it again would not help
  })

  describe('"me too": open orders of the category nearby', () => {
    const LOCATION = { name: '东湖村村委会', address: '青山镇东湖村', latitude: 30.25, longitude: 120.16 }

    test('are shown once a category and a location are chosen; 我也遇到了 follows one and opens it instead of placing', async () => {
      const fake = residentWx({
        'GET /towns/1/client-config': () => ({ data: clientConfig({ subscribe_template_ids: ['tmpl-claimed'] }) }),
        'GET /orders/nearby': () => ({ data: nearby([nearbyOrder(), nearbyOrder({ id: 9, summary: '路灯一闪一闪', distance_m: 41.7, follower_count: 0, state_label: '待领单' })]) }),
        'POST /orders/16/follow': () => ({ data: detail({ id: 16, state: 'claimed', following: true, follower_count: 3, contact_name: null, contact_phone: null, address: null }) }),
      })
      fake.pickers.location = LOCATION
      const page = await openPage('pages/order-new/order-new')
      page.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '0' } })
      await settle()
      expect(fake.requestsTo('GET /orders/nearby')).toHaveLength(0) // no location yet

      await tap(page, '.choose-location')
      const [asked] = fake.requestsTo('GET /orders/nearby')
      expect(asked.query).toEqual({ category_id: '1', latitude: '30.25', longitude: '120.16' })
      const text = textOf(page.querySelector('.nearby'))
      expect(text).toContain('附近已有相同诉求')
      expect(text).toContain('村委会门口的路灯坏了三盏,晚上很黑')
      expect(text).toContain('待派单')
      expect(text).toContain('约23米')
      expect(text).toContain('2人关注')
      expect(textOf(page.querySelector('.nearby-9'))).toContain('约42米')
      expect(textOf(page.querySelector('.nearby-9'))).not.toContain('人关注')

      await tap(page, '.me-too-16')
      expect(fake.calls.subscribes).toEqual([['tmpl-claimed']]) // a follower is told as the resident is
      expect(fake.requestsTo('POST /orders/16/follow')[0].body).toEqual({ latitude: 30.25, longitude: 120.16 })
      expect(fake.calls.navigations).toEqual([{ how: 'redirectTo', url: '/pages/order-detail/order-detail?id=16' }])
      expect(fake.requestsTo('POST /orders')).toHaveLength(0)
      expect(fake.storage.has('wudan.draft.order')).toBe(false)
    })

    test('the resident may still place their own; their own order nearby opens without a follow', async () => {
      const fake = residentWx({
        'GET /orders/nearby': () => ({ data: nearby([nearbyOrder({ id: 12, mine: true, follower_count: 0 })]) }),
      })
      fake.pickers.location = LOCATION
      const page = await openPage('pages/order-new/order-new')
      await fillIn(page)
      await tap(page, '.choose-location')
      expect(fake.requestsTo('GET /orders/nearby')[0].query.category_id).toBe('2')
      expect(textOf(page.querySelector('.nearby-12'))).toContain('我的诉求，查看')
      expect(page.querySelector('.me-too')).toBeFalsy()

      await tap(page, '.submit')
      expect(fake.requestsTo('POST /orders')).toHaveLength(1)

      await tap(page, '.nearby-open')
      expect(fake.requestsTo('POST /orders/12/follow')).toHaveLength(0)
      expect(fake.calls.navigations.map(n => n.url)).toContain('/pages/order-detail/order-detail?id=12')
    })

    test('a follow the service refuses shows its reason and leaves the form as it was', async () => {
      const fake = residentWx({
        'GET /orders/nearby': () => ({ data: nearby([nearbyOrder()]) }),
        'POST /orders/16/follow': () => problem(422, 'rule-violation', '不符合业务规则', '工单 16 不是您附近正在办理的诉求'),
      })
      fake.pickers.location = LOCATION
      const page = await openPage('pages/order-new/order-new')
      await fillIn(page)
      await tap(page, '.choose-location')
      await tap(page, '.me-too')
      expect(textOf(page)).toContain('工单 16 不是您附近正在办理的诉求')
      expect(fake.calls.navigations).toEqual([])
      expect(page.instance.data.fields.description).toBe('屋顶漏雨,卧室的墙都湿了')
      expect(fake.storage.has('wudan.draft.order')).toBe(true)
    })

    test('nothing nearby shows nothing; 代点单 does not ask (only a resident follows)', async () => {
      const fake = residentWx({ 'GET /orders/nearby': () => ({ data: nearby([]) }) })
      fake.pickers.location = LOCATION
      const page = await openPage('pages/order-new/order-new')
      await fillIn(page)
      await tap(page, '.choose-location')
      expect(fake.requestsTo('GET /orders/nearby')).toHaveLength(1)
      expect(page.querySelector('.nearby')).toBeFalsy()

      const staff = installWx({
        routes: {
          'GET /me': () => ({ data: ME.grid_worker }),
          'GET /towns/1/categories': () => ({ data: CATEGORIES }),
          'GET /towns/1/client-config': () => ({ data: clientConfig() }),
        },
      })
      staff.signIn({ kind: 'staff', role: 'grid_worker', userId: 3 })
      staff.pickers.location = LOCATION
      const behalf = await openPage('pages/order-new/order-new', { behalf: '1' })
      behalf.querySelector('.category-picker').dispatchEvent('change', { detail: { value: '1' } })
      await tap(behalf, '.choose-location')
      expect(behalf.instance.data.fields.latitude).toBe(30.25)
      expect(staff.requestsTo('GET /orders/nearby')).toHaveLength(0)
    })
  })
})
