#!/usr/bin/env node
// Starts a rest-sessions server configured by RS_* environment variables.
// A published install runs the built dist/; in the workspace, where only the TypeScript sources
// exist, tsx's ESM loader is registered first so the sources can be imported directly.
import { existsSync } from 'node:fs'

const built = new URL('../dist/index.js', import.meta.url)
let entry = built
if (!existsSync(built)) {
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
