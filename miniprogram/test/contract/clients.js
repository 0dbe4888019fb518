/**
 * Clients of the real wudan service for the contract tests: utils/api.js — the module
 * the pages use — over node's fetch, one per person, each with its own session.
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const { createApi } = require('../../utils/api')
const { createSession } = require('../../utils/session')
const { memoryStorage } = require('../../utils/storage')
const { nodeTransport } = require('../support/node-transport')
const { writePng } = require('../support/png')

/** The town global-setup built (test/contract/town.js): its ids, staff and password. */
function town() {
  if (!process.env.WUDAN_TOWN) throw new Error('WUDAN_TOWN is not set: run the contract tests through jest (globalSetup builds the town)')
  return JSON.parse(process.env.WUDAN_TOWN)
}

function baseUrl() {
  const url = process.env.WUDAN_BASE_URL
  if (!url) throw new Error('WUDAN_BASE_URL is not set: run the contract tests through jest (globalSetup starts the server)')
  return url
}

function client() {
  const storage = memoryStorage()
  const session = createSession(storage)
  return { api: createApi({ baseUrl: baseUrl(), transport: nodeTransport, session }), session, storage }
}

/** @param {string} key a key of town().staff: gridWorker, gridWorker2, secretary, member, member2 */
async function staff(key) {
  const person = client()
  await person.api.signInStaff(town().staff[key].phone, town().password)
  return person
}

/** A resident signed in through WeChat (the stand-in answers openid `<openid>` for code `code-<openid>`), profile completed. */
async function wechatResident(openid, { name = '测试居民', gridId = town().grids.first, phone } = {}) {
  const person = client()
  await person.api.signInWechat(`code-${openid}`)
  await person.api.updateProfile({ name, grid_id: gridId, ...(phone ? { phone_code: `phone-${phone}` } : {}) })
  return person
}

let photoSerial = 0
/** A fresh PNG file (its own colour, so no two uploads are the same bytes). */
function photoFile() {
  photoSerial += 1
  const file = path.join(os.tmpdir(), `wudan-mp-${process.pid}-${photoSerial}.png`)
  writePng(file, [photoSerial % 256, (photoSerial * 7) % 256, 99])
  return file
}

function cleanupPhotos() {
  for (let n = 1; n <= photoSerial; n += 1) fs.rmSync(path.join(os.tmpdir(), `wudan-mp-${process.pid}-${n}.png`), { force: true })
}

/** Raw HTTP for what the mini-program itself never does (an admin turning the board on, loading an image). */
function raw(pathname, options) {
  return fetch(baseUrl() + pathname, options)
}

async function eventually(check, { timeoutMs = 10000, everyMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

module.exports = { client, staff, wechatResident, photoFile, cleanupPhotos, raw, eventually, town, baseUrl }
