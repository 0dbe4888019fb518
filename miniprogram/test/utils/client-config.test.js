const { createClientConfig } = require('../../utils/client-config')
const { clientConfig } = require('../support/fixtures')

function countingApi(answers) {
  const asked = []
  return {
    asked,
    clientConfig(townId) {
      asked.push(townId)
      const next = answers.shift()
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next)
    },
  }
}

describe('the town\'s client config', () => {
  test('is read once per town for a while, in the words the pages use', async () => {
    let clock = 0
    const api = countingApi([clientConfig({ subscribe_template_ids: ['t-1', ''] }), clientConfig({ photos_per_order: 2 }), clientConfig()])
    const read = createClientConfig(api, { keepMs: 1000, now: () => clock })
    const first = await read(1)
    expect(first).toMatchObject({ maxPhotos: 6, templateIds: ['t-1'], boardEnabled: true, nearbyRadiusM: 50 })
    expect(first.urgencies).toEqual([{ value: 'normal', label: '一般' }, { value: 'urgent', label: '紧急' }])
    clock = 999
    expect(await read(1)).toBe(first)
    expect(api.asked).toEqual([1])
    clock = 1000
    expect((await read(1)).maxPhotos).toBe(2)
    await read(7)
    expect(api.asked).toEqual([1, 1, 7])
  })

  test('a failed read is not kept: the next call asks again', async () => {
    const api = countingApi([new Error('offline'), clientConfig({ public_board_enabled: false })])
    const read = createClientConfig(api)
    await expect(read(1)).rejects.toThrow('offline')
    expect((await read(1)).boardEnabled).toBe(false)
    expect(api.asked).toEqual([1, 1])
  })
})
