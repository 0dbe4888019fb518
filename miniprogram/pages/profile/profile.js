/**
 * The resident's name, phone and the grid they live in (their orders go to that
 * grid). The phone is best bound with WeChat's 「获取手机号」 button: the service
 * checks the number with WeChat, and then the orders a grid worker or member placed
 * for that phone on a visit or a call (代点单) become the resident's. A typed phone is
 * kept as a contact number only and links nothing.
 */
const config = require('../../config')
const { api } = require('../../utils/app-api')
const { messageOf } = require('../../utils/errors')

Component({
  data: { first: false, name: '', phone: '', grids: [], gridIndex: -1, saving: false, error: '', notice: '' },
  methods: {
    async onLoad(query) {
      this.setData({ first: query.first === '1' })
      try {
        const me = await api.me()
        const townId = me.town ? me.town.id : config.townId
        const grids = (await api.grids(townId)).items
        const gridIndex = me.grid ? grids.findIndex(grid => grid.id === me.grid.id) : -1
        this.setData({ name: me.name || '', phone: me.phone || '', grids, gridIndex })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    onName(event) {
      this.setData({ name: event.detail.value.trim() })
    },
    onPhoneTyped(event) {
      this.setData({ phone: event.detail.value.trim() })
    },
    onGrid(event) {
      this.setData({ gridIndex: Number(event.detail.value) })
    },
    /** The getPhoneNumber button's answer: a one-time code, or nothing if refused. */
    async onPhoneNumber(event) {
      const code = event.detail && event.detail.code
      if (!code) {
        this.setData({ notice: '未授权手机号，可手动填写' })
        return
      }
      try {
        const me = await api.updateProfile({ phone_code: code })
        this.setData({ phone: me.phone || '', notice: '手机号已绑定，代为登记的工单会显示在「我的工单」', error: '' })
      } catch (err) {
        this.setData({ error: messageOf(err) })
      }
    },
    async onSave() {
      const { name, phone, grids, gridIndex, first } = this.data
      if (!name) return this.setData({ error: '请填写姓名' })
      if (gridIndex < 0) return this.setData({ error: '请选择所在网格' })
      const profile = { name, grid_id: grids[gridIndex].id }
      if (phone) profile.phone = phone
      this.setData({ saving: true, error: '' })
      try {
        await api.updateProfile(profile)
        wx.showToast({ title: '已保存', icon: 'success' })
        if (first) wx.reLaunch({ url: '/pages/index/index' })
        else wx.navigateBack()
      } catch (err) {
        this.setData({ error: messageOf(err) })
      } finally {
        this.setData({ saving: false })
      }
    },
  },
})
