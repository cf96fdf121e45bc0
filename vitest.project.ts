import { defineProject, type TestProjectInlineConfiguration } from 'vitest/config'

/** What a project may set beyond the shared defaults (and may override them with). */
export type ProjectTest = NonNullable<TestProjectInlineConfiguration['test']>

/**
 * One workspace project's config: the defaults every package shares (tests in `src/` and `test/`,
 * type tests in `*.test-d.ts` checked against the package's tsconfig, timeouts that hold on the
 * 2-core box with real services), then `test`, which overrides any of them. Each
 * `<package>/vitest.config.ts` is one call of this; the root `vitest.config.ts` adds the source
 * condition.
 */
export function sessionbridgeProject(name: string, test: ProjectTest = {}) {
  return defineProject({
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      typecheck: {
        enabled: true,
        include: ['src/**/*.test-d.ts', 'test/**/*.test-d.ts'],
        tsconfig: './tsconfig.json',
      },
      testTimeout: 20_000,
      hookTimeout: 60_000,
      ...test,
    },
  })
}
