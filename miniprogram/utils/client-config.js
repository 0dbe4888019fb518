/**
 * What the service tells the client about a town before a form is shown
 * (`GET /towns/{id}/client-config`): how many photos an order takes and how large, the
 * subscribe templates to ask consent for, whether the 晒单 board is open, how near a
 * "me too" order is looked for, and the words of the urgencies.
 *
 * Read once per town and kept a few minutes, so the pages opened one after another do
 * not each ask again; a failed read is not kept.
 *
 * @typedef {{ town: { id: number, name: string }, maxPhotos: number, photoMaxBytes: number,
 *             templateIds: string[], boardEnabled: boolean, nearbyRadiusM: number,
 *             urgencies: { value: string, label: string }[], urgencyLabels: Record<string, string> }} ClientConfig
 */

const KEEP_MS = 5 * 60 * 1000

/** @returns {ClientConfig} the service's answer in the words the pages use */
function configOf(answer) {
  const labels = answer.urgency_labels || {}
  return {
    town: answer.town,
    maxPhotos: answer.photos_per_order,
    photoMaxBytes: answer.photo_max_bytes,
    templateIds: (answer.subscribe_template_ids || []).filter(Boolean),
    boardEnabled: answer.public_board_enabled === true,
    nearbyRadiusM: answer.nearby_radius_m,
    urgencies: Object.keys(labels).map(value => ({ value, label: labels[value] })),
    urgencyLabels: labels,
  }
}

/**
 * @param {{ clientConfig(townId: number): Promise<any> }} api utils/api.js
 * @returns {(townId: number) => Promise<ClientConfig>}
 */
function createClientConfig(api, { keepMs = KEEP_MS, now = () => Date.now() } = {}) {
  const kept = new Map()
  return function clientConfig(townId) {
    const hit = kept.get(townId)
    if (hit && now() - hit.at < keepMs) return hit.promise
    const promise = api.clientConfig(townId).then(configOf)
    kept.set(townId, { at: now(), promise })
    promise.catch(() => kept.delete(townId))
    return promise
  }
}

module.exports = { createClientConfig, configOf }
