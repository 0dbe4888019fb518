/**
 * A list read page by page with the service's `limit` / `offset` paging: pull to
 * refresh starts again, reaching the bottom reads the next page.
 */

/**
 * @param {(paging: { limit: number, offset: number }) => Promise<import('./api').Page>} fetchPage
 */
function createPager(fetchPage, { limit = 20 } = {}) {
  let items = []
  let total = 0
  let loading = null

  const state = () => ({ items, total, hasMore: items.length < total })

  return {
    state,
    async refresh() {
      const page = await fetchPage({ limit, offset: 0 })
      items = page.items
      total = page.total
      return state()
    },
    /** The next page; an order placed meanwhile shifts the offsets, so one already shown is not shown twice. */
    more() {
      if (items.length >= total) return Promise.resolve(state())
      if (!loading) {
        loading = fetchPage({ limit, offset: items.length })
          .then(page => {
            const seen = new Set(items.map(item => item.id))
            items = items.concat(page.items.filter(item => !seen.has(item.id)))
            total = page.total
            return state()
          })
          .finally(() => {
            loading = null
          })
      }
      return loading
    },
  }
}

module.exports = { createPager }
