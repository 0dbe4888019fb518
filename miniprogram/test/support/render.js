/**
 * Loading pages and components of this mini-program into miniprogram-simulate.
 *
 * Pages are built with `Component()` (a page constructor WeChat supports), which is
 * what miniprogram-simulate can load; their page lifecycle (`onLoad`, `onShow`,
 * `onPullDownRefresh`, `onReachBottom`) is called here as WeChat would call it.
 */
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.resolve(__dirname, '../..')

function load(relativePath) {
  // miniprogram-simulate runs a component's js by require()-ing it and then deleting it
  // from require.cache, which jest's module registry ignores: without a reset, a page
  // loaded twice in one file would not call Component() the second time.
  jest.resetModules()
  return simulate.load(path.join(ROOT, relativePath), { rootPath: ROOT, compiler: 'simulate' })
}

/** Let every pending promise and timer of the page run (its calls are all stubbed). */
async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i += 1) await simulate.sleep(0)
}

function renderComponent(relativePath, properties) {
  const comp = simulate.render(load(relativePath), properties)
  comp.attach(document.createElement('parent-wrapper'))
  return comp
}

/** Render a page and run its onLoad (and onShow) with the query it was opened with. */
async function openPage(relativePath, query = {}) {
  const page = renderComponent(relativePath)
  if (page.instance.onLoad) await page.instance.onLoad(query)
  if (page.instance.onShow) await page.instance.onShow()
  await settle()
  return page
}

/** The page's text as the user reads it, whitespace squeezed. */
function textOf(comp) {
  return comp.dom.textContent.replace(/\s+/g, ' ').trim()
}

function all(comp, selector) {
  return comp.querySelectorAll(selector)
}

async function tap(comp, selector) {
  const target = comp.querySelector(selector)
  if (!target) throw new Error(`nothing matches ${selector}`)
  target.dispatchEvent('tap')
  await settle()
}

async function input(comp, selector, value) {
  const target = comp.querySelector(selector)
  if (!target) throw new Error(`nothing matches ${selector}`)
  target.dispatchEvent('input', { detail: { value } })
  await settle()
}

module.exports = { ROOT, load, settle, renderComponent, openPage, textOf, all, tap, input, simulate }
