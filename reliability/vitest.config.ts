import { sessionbridgeProject } from '../vitest.project.ts'

export default sessionbridgeProject('reliability', {
  include: ['test/**/*.test.ts'],
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 60_000,
})
