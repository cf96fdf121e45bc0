import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'reliability',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    typecheck: {
      enabled: true,
      include: ['src/**/*.test-d.ts', 'test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
