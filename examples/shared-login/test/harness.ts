import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { uniqueName } from '@sessionbridge/test-services'
import { type ExampleConfig, loadConfig } from '../src/config.ts'
import { hashDjangoPassword } from '../src/database.ts'
import { type RunningExample, startExample } from '../src/launcher.ts'
import { seedUser } from '../src/schema.ts'

/** A user holding `auth.view_user`, for the admin feed. */
export const AUDITOR = { username: 'auditor', password: 'auditor-password' } as const

/** The running example plus what a test needs to reach into it. */
export interface TestExample extends RunningExample {
  config: ExampleConfig
  /** `[name, url]` of the Node apps only. */
  nodeApps: Array<readonly [string, string]>
  cleanup(): Promise<void>
}

/**
 * Starts the whole example on free ports against its own fresh database (a SQLite file in a temp
 * dir unless `env.DATABASE_URL` says otherwise), seeded with the demo user and `AUDITOR`.
 */
export async function startTestExample(env: Record<string, string>): Promise<TestExample> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-shared-login-'))
  const config = loadConfig({
    SECRET_KEY: 'shared-login-test-secret-key-0123456789',
    DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`,
    FASTIFY_PORT: '0',
    KOA_PORT: '0',
    HONO_PORT: '0',
    EXPRESS_PORT: '0',
    DJANGO_PORT: '0',
    // Redis and memcached are shared with other runs: keys of this run's own.
    KEY_PREFIX: `${uniqueName('sbt_example')}:`,
    ...env,
  })
  let example: RunningExample
  try {
    example = await startExample(config)
    await seedUser(example.stack.database.client, {
      username: AUDITOR.username,
      passwordHash: await hashDjangoPassword(AUDITOR.password, config.djangoVersion),
      permissions: ['auth.view_user'],
    })
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    ...example,
    config,
    nodeApps: example.apps.filter(([name]) => name !== 'Django'),
    async cleanup() {
      await example.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
