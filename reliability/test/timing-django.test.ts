import { createSessionManager, LazyUser, memoryBackend } from '@sessionbridge/core'
import { decideBasicGuard, resolveBasicGuard } from '@sessionbridge/core/adapter'
import { djangoUsers } from '@sessionbridge/django'
import { pgClient } from '@sessionbridge/sql'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensurePgDatabase, pgPool, relTable } from '../src/services.ts'
import { median } from '../src/stats.ts'
import { basic, PASSWORD } from '../src/users.ts'

const available = await serviceAvailable('postgres')

describe.skipIf(!available)('timing with the Django user source (auth_user on PostgreSQL)', () => {
  const table = relTable('auth_user')
  let pool: ReturnType<typeof pgPool>
  beforeAll(async () => {
    await ensurePgDatabase()
    pool = pgPool()
    // Django 3.2's auth_user on PostgreSQL.
    await pool.query(`CREATE TABLE ${table} (
      id serial PRIMARY KEY, password varchar(128) NOT NULL, last_login timestamptz NULL,
      is_superuser boolean NOT NULL, username varchar(150) NOT NULL UNIQUE, first_name varchar(150) NOT NULL,
      last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, is_staff boolean NOT NULL,
      is_active boolean NOT NULL, date_joined timestamptz NOT NULL)`)
  })
  afterAll(async () => {
    await pool?.query(`DROP TABLE IF EXISTS ${table}`)
    await pool?.end()
  })

  it('unknown user vs wrong password through the Basic guard: medians within 0.5-2x', async () => {
    const users = djangoUsers({
      client: pgClient(pool),
      secretKey: 'reliability-django-secret-key-of-fifty-characters-x',
      table,
      permissions: false,
      iterations: 20_000,
    })
    await users.register({ username: 'alice', password: PASSWORD, email: 'alice@example.com' })
    const guard = resolveBasicGuard(null)
    const manager = createSessionManager({ backend: memoryBackend(), logger: { warn() {} } })
    const attempt = async (authorization: string) => {
      const session = await manager.open({ cookie: null })
      const started = process.hrtime.bigint()
      const decision = await decideBasicGuard(guard, {
        session,
        user: new LazyUser(session, users),
        users,
        authorization,
      })
      const elapsed = Number(process.hrtime.bigint() - started)
      expect(decision.allow).toBe(false)
      return elapsed
    }
    await attempt(basic('alice', 'warm-up'))
    const unknown: number[] = []
    const wrong: number[] = []
    for (let i = 0; i < 30; i++) {
      unknown.push(await attempt(basic(`nobody${i}`, 'wrong')))
      wrong.push(await attempt(basic('alice', `wrong${i}`)))
    }
    const ratio = median(unknown) / median(wrong)
    console.info(`[reliability] timing (Django users): unknown/wrong median ratio ${ratio.toFixed(3)}`)
    expect(ratio).toBeGreaterThan(0.5)
    expect(ratio).toBeLessThan(2)
    // And the right password does get in, so the 401s above were not a broken source.
    const session = await manager.open({ cookie: null })
    const ok = await decideBasicGuard(guard, {
      session,
      user: new LazyUser(session, users),
      users,
      authorization: basic('alice', PASSWORD),
    })
    expect(ok.allow).toBe(true)
  })
})
