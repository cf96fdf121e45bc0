import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('API reports', () => {
  it('every package api.md matches its public surface (node scripts/api-report.mjs rewrites them)', async () => {
    const run = promisify(execFile)
    const result = await run(process.execPath, ['scripts/api-report.mjs', '--check'], { cwd: root }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  }, 240_000)
})
