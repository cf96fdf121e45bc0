import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'shared-login',
    include: ['test/**/*.test.ts'],
    // One example at a time: each suite starts four servers on the 2 shared cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
