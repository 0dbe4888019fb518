/**
 * A category's extra questions (its `attributes`, Open311 service attributes) on the
 * order form, and the answers `POST /orders` takes in `attributes`, by code.
 *
 * Datatypes and how the form asks them: string (input), number (a digit input), text
 * (textarea), singlevaluelist (a picker of its values), multivaluelist (checkboxes),
 * datetime (a date picker and a time picker). A definition with `variable: false` is
 * text shown to the resident, not a question. Answers are text — a number too, as the
 * service keeps them — or, for a multivaluelist, the list of the keys chosen.
 *
 * @typedef {{ code: string, datatype: string, description: string, required?: boolean, variable?: boolean,
 *             order?: number, values?: { key: string, name: string }[] }} Definition
 * @typedef {Record<string, string | string[]>} Answers
 */

function sorted(definitions) {
  return (definitions || []).slice().sort((a, b) => (a.order || 0) - (b.order || 0) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
}

const isQuestion = d => d.variable !== false
const isEmpty = answer => answer === undefined || answer === null ||
  (typeof answer === 'string' && !answer.trim()) || (Array.isArray(answer) && answer.length === 0)

/** The device's offset from UTC as ±HH:MM, for a datetime answer the service reads as an instant. */
function zoneOffset(date = new Date()) {
  const minutes = -date.getTimezoneOffset()
  const sign = minutes >= 0 ? '+' : '-'
  const abs = Math.abs(minutes)
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** `2026-11-21T08:30:00+08:00` from the two pickers' values (a date alone is at 00:00). */
function datetimeAnswer(date, time) {
  if (!date) return ''
  return `${date}T${time || '00:00'}:00${zoneOffset(new Date(`${date}T${time || '00:00'}:00`))}`
}

/** The date and time parts of a datetime answer, as the pickers show them. */
function datetimeParts(answer) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(answer || '')
  return match ? { date: match[1], time: match[2] } : { date: '', time: '' }
}

/**
 * What the form shows for each definition, in `order`, with the answers given so far.
 * @param {Definition[]} definitions
 * @param {Answers} answers
 */
function questionsOf(definitions, answers = {}) {
  return sorted(definitions).map(d => {
    const answer = answers[d.code]
    const values = d.values || []
    const question = {
      code: d.code, datatype: d.datatype, description: d.description, required: !!d.required,
      variable: isQuestion(d), values, value: typeof answer === 'string' ? answer : '',
    }
    if (d.datatype === 'singlevaluelist') {
      question.index = values.findIndex(v => v.key === answer)
      question.shown = question.index >= 0 ? values[question.index].name : '请选择'
    }
    if (d.datatype === 'multivaluelist') {
      const chosen = Array.isArray(answer) ? answer : []
      question.options = values.map(v => ({ key: v.key, name: v.name, checked: chosen.includes(v.key) }))
    }
    if (d.datatype === 'datetime') Object.assign(question, datetimeParts(question.value))
    return question
  })
}

/**
 * The first thing wrong with the answers (a required question unanswered, a number that
 * is not one), in the words the form shows; '' when they can be sent.
 */
function problemOf(definitions, answers = {}) {
  for (const d of sorted(definitions).filter(isQuestion)) {
    const answer = answers[d.code]
    if (isEmpty(answer)) {
      if (d.required) return `请回答：${d.description}`
      continue
    }
    if (d.datatype === 'number' && !Number.isFinite(Number(String(answer).trim()))) return `「${d.description}」请填写数字`
  }
  return ''
}

/** The answers `POST /orders` takes: the questions of this category only, the empty ones left out. */
function answersToSend(definitions, answers = {}) {
  const sent = {}
  sorted(definitions).filter(isQuestion).forEach(d => {
    const answer = answers[d.code]
    if (isEmpty(answer)) return
    if (d.datatype === 'multivaluelist') {
      // In the order of the choices, not of the taps.
      sent[d.code] = (d.values || []).map(v => v.key).filter(key => answer.includes(key))
    } else {
      sent[d.code] = String(answer).trim()
    }
  })
  return sent
}

module.exports = { questionsOf, problemOf, answersToSend, datetimeAnswer, datetimeParts, zoneOffset }
