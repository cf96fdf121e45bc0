#!/usr/bin/env node
// Starts a rest-sessions server configured by RS_* environment variables.
// A published install runs the built dist/. In the workspace, when only the TypeScript sources
// exist or the `@sessionbridge/source` condition is on (the tests pass it down, so imports of other
// workspace packages resolve to their .ts sources), tsx's ESM loader is registered first so the
// sources can be imported directly.
import { existsSync } from 'node:fs'

const built = new URL('../dist/index.js', import.meta.url)
const sourceCondition = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes(
  '@sessionbridge/source',
)
let entry = built
if (!existsSync(built) || sourceCondition) {
  const { register } = await import('tsx/esm/api')
  register()
  entry = new URL('../src/index.ts', import.meta.url)
}
const { startFromEnv } = await import(entry.href)
try {
  await startFromEnv(process.env)
} catch (error) {
  console.error(`rest-sessions-server: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
