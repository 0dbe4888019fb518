/**
 * The real wudan service for the contract tests: `wudan serve` from the repository's
 * virtualenv on a free loopback port, with its data in a temporary directory (nothing
 * is written in the repository), WeChat pointed at a stand-in.
 *
 * The town is made with `wudan create-town` and then built through the admin API
 * (test/contract/town.js) rather than seeded with `--demo`: the tests then depend only
 * on what they made, not on the demo's accounts and orders.
 */
const { spawn } = require('child_process')
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')

const REPO = path.resolve(__dirname, '../../..')
const WUDAN = path.join(REPO, '.venv', 'bin', 'wudan')
const WECHAT = { appid: 'wx-contract-test', secret: 'contract-test-secret' }
const ADMIN = { phone: '13600000000', password: 'contract-admin-2026' }
// What the service is started with that its client config publishes: a photo limit
// other than its default (9), and subscribe messages on with two templates.
const SERVICE = {
  photosPerOrder: 4,
  templates: {
    'order.claim': { template_id: 'tmpl-contract-claim', page: 'pages/order-detail/order-detail?id={order_id}', data: { thing1: '{title}', time2: '{time}' } },
    'order.complete': { template_id: 'tmpl-contract-complete', page: 'pages/order-detail/order-detail?id={order_id}', data: { thing1: '{title}', time2: '{time}' } },
  },
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

function checkVenv() {
  if (!fs.existsSync(WUDAN)) {
    throw new Error(
      `The contract tests need the wudan service's virtualenv, and ${WUDAN} is missing.\n` +
      `Create it from the repository root (${REPO}) with \`make run\` (or \`python3 -m venv .venv && ` +
      '.venv/bin/pip install -e .`), then run `npm test` again.',
    )
  }
}

/** One `wudan` command to its end; its output goes to the log, shown if it fails. */
function run(args, { cwd, env, log }) {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(log, 'a')
    const child = spawn(WUDAN, args, { cwd, env, stdio: ['ignore', out, out] })
    child.once('error', reject)
    child.once('exit', code => {
      fs.closeSync(out)
      if (code === 0) return resolve()
      const tail = fs.readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')
      reject(new Error(`wudan ${args[0]} exited with ${code}; last lines of its log:\n${tail}`))
    })
  })
}

async function waitReady(baseUrl, child, logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    try {
      const response = await fetch(`${baseUrl}/readyz`)
      if (response.status === 200) return
    } catch (err) {
      // not listening yet
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : ''
  child.kill('SIGKILL')
  throw new Error(`wudan did not become ready at ${baseUrl} (exit code ${child.exitCode}); last lines of its log:\n${log}`)
}

/** @returns {Promise<{ baseUrl: string, dataDir: string, stop(): Promise<void> }>} */
async function startWudan({ wechatApiBase }) {
  checkVenv()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wudan-miniprogram-'))
  const port = await freePort()
  const logFile = path.join(dataDir, 'server.log')
  const log = fs.openSync(logFile, 'a')
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || dataDir,
    LANG: 'C.UTF-8',
    ENVIRONMENT: 'development', // --demo and dev sign-in are development only
    DATA_DIR: dataDir,
    DATABASE_URL: '', // SQLite in DATA_DIR
    LOG_FORMAT: 'text',
    LOG_LEVEL: 'WARNING',
    WECHAT_APPID: WECHAT.appid,
    WECHAT_SECRET: WECHAT.secret,
    WECHAT_API_BASE: wechatApiBase,
    // The inbox is written by the delivery job; the test waits for it, so run it often.
    DELIVERY_INTERVAL_SECONDS: '0.5',
    PHOTOS_PER_ORDER: String(SERVICE.photosPerOrder),
    WECHAT_SUBSCRIBE_ENABLED: 'true',
    WECHAT_TEMPLATES: JSON.stringify(SERVICE.templates),
  }
  const baseUrl = `http://127.0.0.1:${port}`
  let child
  try {
    // cwd is the temporary directory so that no .env of the repository is read.
    await run(['migrate'], { cwd: dataDir, env, log: logFile })
    await run(['create-town', '青山镇', '--admin-phone', ADMIN.phone, '--admin-name', '镇党委管理员'], {
      cwd: dataDir, env: { ...env, WUDAN_ADMIN_PASSWORD: ADMIN.password }, log: logFile,
    })
    child = spawn(WUDAN, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: dataDir, env, stdio: ['ignore', log, log],
    })
    await waitReady(baseUrl, child, logFile, 60000)
  } catch (err) {
    fs.closeSync(log)
    fs.rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  return {
    baseUrl,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
        await exited
        clearTimeout(timer)
      }
      fs.closeSync(log)
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

module.exports = { startWudan, WECHAT, ADMIN, SERVICE, REPO }
