import { sessionbridgeProject } from '../../vitest.project.ts'

export default sessionbridgeProject('shared-login', {
  include: ['test/**/*.test.ts'],
  typecheck: { enabled: false },
  // One example at a time: each suite starts four servers on the 2 shared cores.
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 120_000,
})
