// Everything a page needs is in utils/ (the API client, the session); the app keeps no
// global state of its own, so each page can be loaded and tested by itself.
App({})
