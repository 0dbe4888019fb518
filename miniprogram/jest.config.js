// Times in the pages are shown in the phone's zone; the towns' is China's.
process.env.TZ = 'Asia/Shanghai'

module.exports = {
  maxWorkers: 2,
  projects: [
    {
      displayName: 'pages',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/test/pages/**/*.test.js', '<rootDir>/test/components/**/*.test.js', '<rootDir>/test/utils/**/*.test.js'],
    },
    {
      // The API module against a real wudan server, started once for these files.
      displayName: 'contract',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/contract/**/*.test.js'],
      globalSetup: '<rootDir>/test/contract/global-setup.js',
      globalTeardown: '<rootDir>/test/contract/global-teardown.js',
      slowTestThreshold: 20,
      // Each test makes many real requests; on a busy two-core machine 5 s is too tight.
      testTimeout: 30000,
    },
  ],
}
