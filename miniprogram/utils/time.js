/**
 * Times as the pages show them. The service answers UTC; the phone's own time zone is
 * the resident's (the towns are in China).
 */

const pad = n => (n < 10 ? '0' + n : String(n))

/** "12-01 08:50" (this year) or "2025-12-01 08:50". */
function shortTime(iso, now = new Date()) {
  if (!iso) return ''
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return ''
  const day = `${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}`
  return at.getFullYear() === now.getFullYear() ? day : `${at.getFullYear()}-${day}`
}

/** "3天5小时", "2小时", "15分钟" */
function duration(seconds) {
  const minutes = Math.max(1, Math.floor(seconds / 60))
  const days = Math.floor(minutes / 1440)
  const hours = Math.floor((minutes % 1440) / 60)
  if (days) return hours ? `${days}天${hours}小时` : `${days}天`
  if (hours) return `${hours}小时`
  return `${minutes}分钟`
}

/** The mark a list shows for an order that has run past its stage's limit. */
function overdueText(order) {
  if (!order || !order.overdue) return ''
  return `已超时${duration(order.overdue_seconds || 0)}`
}

module.exports = { shortTime, duration, overdueText }
