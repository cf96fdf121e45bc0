import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'edge',
    include: ['test/**/*.test.ts'],
    // Each file starts workerd (and the edge test the shared-login apps): one at a time on 2 cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
