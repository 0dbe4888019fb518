/**
 * Failures of calls to the service, as one error type the pages can show.
 *
 * The service answers RFC 9457 problem details and writes their `title`, `detail` and
 * field messages in Chinese when asked with `Accept-Language: zh-CN` (the API module
 * always asks), so the text shown is the service's own; only failures that never
 * reached it (no network, a body that is not a problem) get the client's wording.
 */

// Field names in a 422's `errors[].loc`, as the forms label them.
const FIELD_LABELS = {
  category_id: '类别',
  description: '问题描述',
  urgency: '紧急程度',
  address: '地址',
  latitude: '位置',
  longitude: '位置',
  photo_ids: '照片',
  grid_id: '网格',
  contact_name: '联系人',
  contact_phone: '联系电话',
  channel: '来源',
  reason: '原因',
  note: '说明',
  stars: '评分',
  comment: '评价',
  member_id: '党员',
  name: '姓名',
  phone: '手机号',
  phone_code: '手机号',
  password: '密码',
  code: '登录凭证',
}

class ApiError extends Error {
  /**
   * @param {string} message what the page shows
   * @param {{status?: number, code?: string, problem?: object, retryAfter?: number | null}} [facts]
   */
  constructor(message, facts = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = facts.status || 0
    this.code = facts.code || (this.status ? 'http-' + this.status : 'network')
    this.problem = facts.problem || null
    this.retryAfter = facts.retryAfter == null ? null : facts.retryAfter
  }

  /** No answer arrived: the request may or may not have been carried out. */
  get isNetwork() {
    return this.status === 0
  }
}

function fieldMessages(errors) {
  if (!Array.isArray(errors)) return []
  return errors.map(item => {
    const loc = Array.isArray(item.loc) ? item.loc : []
    const field = loc.filter(part => typeof part === 'string' && part !== 'body').pop()
    const label = FIELD_LABELS[field] || field
    return label ? `${label}：${item.msg}` : item.msg
  })
}

/**
 * @param {number} status
 * @param {any} body the parsed answer
 * @param {Record<string, string>} headers lower-cased
 */
function fromAnswer(status, body, headers = {}) {
  const problem = body && typeof body === 'object' ? body : null
  const fields = fieldMessages(problem && problem.errors)
  let message
  if (fields.length) message = fields.join('；')
  else if (problem && (problem.detail || problem.title)) message = problem.detail || problem.title
  else if (status >= 500) message = '服务暂时不可用，请稍后再试'
  else message = `请求失败（${status}）`
  const retryAfter = headers['retry-after'] ? Number(headers['retry-after']) : null
  return new ApiError(message, {
    status,
    code: (problem && problem.code) || undefined,
    problem,
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
  })
}

function networkError(cause) {
  const error = new ApiError('网络连接失败，请检查网络后再试')
  error.cause = cause
  return error
}

/** What to show for any error a page catches. */
function messageOf(error) {
  if (error instanceof ApiError) return error.message
  if (error && error.errMsg) return '操作未完成'
  return '出错了，请稍后再试'
}

module.exports = { ApiError, fromAnswer, networkError, messageOf, FIELD_LABELS }
