import { sessionbridgeProject } from '../../vitest.project.ts'

export default sessionbridgeProject('edge', {
  include: ['test/**/*.test.ts'],
  typecheck: { enabled: false },
  // Each file starts workerd (and the edge test the shared-login apps): one at a time on 2 cores.
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 120_000,
})
