import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { defineConfig } from 'vitest/config'
import patterns from './vitest.workspace.ts'

// Workspace packages export dist/ first; the `@sessionbridge/source` condition (see the root
// README's Development section) points every project at the sibling packages' TypeScript sources
// instead, so tests need no build. Project config files do not inherit the root config, so each
// project is declared inline: its own config file plus the condition. Vitest also hands the
// condition to its workers as `--conditions` for anything Node resolves itself.
const SOURCE_CONDITION = '@sessionbridge/source'

/** Expands the `*` (one directory level) patterns of vitest.workspace.ts. */
function configFiles(pattern: string): string[] {
  const [before, after] = pattern.split('/*/')
  if (after === undefined) return existsSync(pattern) ? [pattern] : []
  return readdirSync(before!)
    .map((dir) => join(before!, dir, after))
    .filter((file) => existsSync(file))
}

export default defineConfig({
  test: {
    projects: patterns.flatMap(configFiles).map((file) => ({
      extends: `./${file}`,
      root: `./${dirname(file)}`,
      ssr: { resolve: { conditions: [SOURCE_CONDITION, 'node', 'development|production'] } },
    })),
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: '.vitest-results/results.json' }]]
      : ['default'],
  },
})
