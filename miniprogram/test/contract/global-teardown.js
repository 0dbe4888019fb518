module.exports = async function globalTeardown() {
  const started = globalThis.__WUDAN_CONTRACT__
  if (!started) return
  await started.wudan.stop()
  await started.wechat.stop()
}
