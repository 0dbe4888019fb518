/**
 * Sign-in. Residents use their WeChat account: `wx.login()` gives a one-time code
 * that the service exchanges with WeChat (code2session) for the resident's openid;
 * the first sign-in creates the resident. Staff (网格员, 支部书记, 党员) sign in with
 * the phone and password the town office gave them.
 */
const { api } = require('../../utils/app-api')
const { messageOf } = require('../../utils/errors')

function wxLoginCode() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: res => (res.code ? resolve(res.code) : reject(new Error('wx.login gave no code'))),
      fail: reject,
    })
  })
}

Component({
  data: { mode: 'resident', phone: '', password: '', busy: false, error: '' },
  methods: {
    onMode(event) {
      this.setData({ mode: event.currentTarget.dataset.mode, error: '' })
    },
    onPhone(event) {
      this.setData({ phone: event.detail.value.trim() })
    },
    onPassword(event) {
      this.setData({ password: event.detail.value })
    },
    async onResident() {
      await this.signIn(async () => api.signInWechat(await wxLoginCode()))
    },
    async onStaff() {
      const { phone, password } = this.data
      if (!phone || !password) {
        this.setData({ error: '请输入手机号和密码' })
        return
      }
      await this.signIn(() => api.signInStaff(phone, password))
    },
    async signIn(how) {
      if (this.data.busy) return
      this.setData({ busy: true, error: '' })
      try {
        await how()
        wx.reLaunch({ url: '/pages/index/index' })
      } catch (err) {
        this.setData({ error: err.status || err.isNetwork ? messageOf(err) : '微信登录失败，请重试' })
      } finally {
        this.setData({ busy: false })
      }
    },
  },
})
