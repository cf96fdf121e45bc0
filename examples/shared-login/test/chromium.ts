import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IN_CI } from '@sessionbridge/test-services'
import { type BrowserContext, chromium } from 'playwright-core'

/** Debian's chromium (.ci/run installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Screenshots land here as test artifacts (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../test-results/', import.meta.url))

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Whether the browser is here: its absence fails in CI and is a loud skip locally. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true
  const message = `[shared-login] no browser at ${CHROMIUM} (apt-get install chromium)`
  if (IN_CI) throw new Error(`${message}: a missing browser fails the run in CI`)
  console.warn(`\n*** SKIPPING the browser suite: ${message} ***\n`)
  return false
}

/** Headless chromium with a fresh profile; `close()` removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'sb-chromium-'))
  await mkdir(ARTIFACTS, { recursive: true })
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 900, height: 360 },
    })
    return {
      context,
      async close() {
        await context.close()
        await rm(profile, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(profile, { recursive: true, force: true })
    throw error
  }
}
