/**
 * Photos from the album or camera to the service, one at a time with progress.
 *
 * One at a time because the service limits uploads per hour and unused uploads per
 * person: a burst of parallel uploads that fails half way leaves more orphans behind.
 * A photo that failed keeps its error and is sent again by the next `uploadPending`; one
 * larger than the service takes (`photo_max_bytes` of its client config) is not sent at
 * all and says so, to be removed.
 *
 * @typedef {{ path: string, id: string | null, url: string, progress: number, error: string, tooLarge?: boolean }} PhotoEntry
 */
const { messageOf } = require('./errors')

/**
 * Up to `room` images from wx.chooseMedia; none when the user closes the picker.
 * @returns {Promise<{ path: string, size: number }[]>} temporary files
 */
function chooseImages(room) {
  if (room <= 0) return Promise.resolve([])
  return new Promise(resolve => {
    wx.chooseMedia({
      count: room,
      mediaType: ['image'],
      sourceType: ['album', 'camera'],
      sizeType: ['compressed'],
      success: res => resolve((res.tempFiles || []).map(file => ({ path: file.tempFilePath, size: file.size }))),
      fail: () => resolve([]),
    })
  })
}

function megabytes(bytes) {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10}MB`
}

/**
 * @param {{ path: string, size?: number }} file
 * @param {number} [maxBytes] the service's photo_max_bytes
 * @returns {PhotoEntry}
 */
function entryFor(file, maxBytes) {
  const entry = { path: file.path, id: null, url: file.path, progress: 0, error: '' }
  if (maxBytes && file.size > maxBytes) {
    return { ...entry, tooLarge: true, error: `照片超过${megabytes(maxBytes)}，请删除后换一张` }
  }
  return entry
}

/**
 * Upload every entry without an id, in order, telling `onChange` after each step.
 * @param {{ uploadPhoto: Function }} api
 * @param {PhotoEntry[]} entries
 * @param {(entries: PhotoEntry[]) => void} onChange
 * @returns {Promise<PhotoEntry[]>}
 */
async function uploadPending(api, entries, onChange) {
  let current = entries.slice()
  const update = (index, changes) => {
    current = current.map((entry, i) => (i === index ? { ...entry, ...changes } : entry))
    onChange(current)
  }
  for (let index = 0; index < current.length; index += 1) {
    if (current[index].id || current[index].tooLarge) continue
    update(index, { progress: 0, error: '' })
    try {
      const photo = await api.uploadPhoto(current[index].path, percent => update(index, { progress: percent }))
      // The signed URL loads in <image> without a header, and still does after the
      // temporary file is gone (a draft reopened the next day).
      update(index, { id: photo.id, url: api.absoluteUrl(photo.url), progress: 100 })
    } catch (err) {
      update(index, { error: messageOf(err) })
    }
  }
  return current
}

module.exports = { chooseImages, entryFor, uploadPending }
