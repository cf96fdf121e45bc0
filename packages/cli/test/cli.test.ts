import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { SessionBackend } from '@sessionbridge/core'
import { djangoCodec } from '@sessionbridge/django'
import { createMemcachedClient, memcachedBackend } from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import {
  djangoTableDdl,
  mysqlClient,
  pgClient,
  type SqlClient,
  sqlBackend,
  sqliteClient,
} from '@sessionbridge/sql'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT } from '../src/index.ts'
import { cli, seed, sessionRecord, uniqueName } from './harness.ts'

const SECRET = 'cli-test-secret-key-not-for-production'

/** One store under test: the env the command gets, a backend on the same data to seed it, cleanup. */
interface StoreCase {
  env: Record<string, string>
  backend: SessionBackend
  /** The store keeps expired rows until `clear-expired` (SQL) rather than dropping them itself. */
  keepsExpired: boolean
  close(): Promise<void>
}

type Setup = () => Promise<StoreCase>

async function sqlCase(
  client: SqlClient,
  layout: 'native' | 'django',
  env: Record<string, string>,
  drop: () => Promise<void>,
  withUserTable = false,
): Promise<StoreCase> {
  const table = uniqueName(layout)
  const userTable = withUserTable ? uniqueName('users') : null
  const fullEnv = {
    ...env,
    SESSION_BACKEND: 'sql',
    SESSION_LAYOUT: layout,
    SESSION_TABLE: table,
    SECRET_KEY: SECRET,
    ...(userTable ? { SESSION_USER_TABLE: userTable } : {}),
  }
  if (userTable) {
    for (const statement of djangoTableDdl(client.dialect, table)) await client.query(statement)
    expect(await cli(fullEnv, 'migrate')).toMatchObject({ code: EXIT.ok, out: 'schema is up to date\n' })
    expect((await cli(fullEnv, 'migrate')).code).toBe(EXIT.ok) // idempotent
  } else if (layout === 'native') {
    const first = await cli(fullEnv, 'migrate')
    expect(first).toMatchObject({ code: EXIT.ok, out: 'schema is up to date\n' })
    expect((await cli(fullEnv, 'migrate')).code).toBe(EXIT.ok) // idempotent
  } else {
    for (const statement of djangoTableDdl(client.dialect, table)) await client.query(statement)
    const refused = await cli(fullEnv, 'migrate')
    expect(refused.code).toBe(EXIT.usage)
    expect(refused.err).toMatch(/manage\.py migrate/)
  }
  const backend = sqlBackend({
    client,
    layout,
    table,
    ...(layout === 'django' ? { codec: djangoCodec({ secretKey: SECRET }) } : {}),
    ...(userTable ? { userTable } : {}),
  })
  return {
    env: fullEnv,
    backend,
    keepsExpired: true,
    close: async () => {
      for (const t of userTable ? [table, userTable] : [table])
        await client.query(`DROP TABLE ${client.dialect === 'mysql' ? `\`${t}\`` : `"${t}"`}`)
      await backend.close()
      await drop()
    },
  }
}

const sqlite =
  (layout: 'native' | 'django', withUserTable = false): Setup =>
  async () => {
    const path = `/tmp/${uniqueName('sqlite')}.sqlite3`
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    const url = { DATABASE_URL: `sqlite:${path}` }
    return sqlCase(sqliteClient(db), layout, url, async () => void db.close(), withUserTable)
  }

const postgres =
  (layout: 'native' | 'django'): Setup =>
  async () => {
    const pool = new pg.Pool({ connectionString: SERVICE_URLS.postgres, max: 4 })
    return sqlCase(pgClient(pool), layout, { DATABASE_URL: SERVICE_URLS.postgres }, () => pool.end())
  }

const mariadb =
  (layout: 'native' | 'django'): Setup =>
  async () => {
    const database = uniqueName('maria')
    const admin = await mysql.createConnection(SERVICE_URLS.mariadb)
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`)
    const url = new URL(SERVICE_URLS.mariadb)
    url.pathname = `/${database}`
    const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 4 })
    return sqlCase(mysqlClient(pool), layout, { DATABASE_URL: url.toString() }, async () => {
      await pool.end()
      await admin.query(`DROP DATABASE \`${database}\``)
      await admin.end()
    })
  }

const redis: Setup = async () => {
  const client = createClient({ url: SERVICE_URLS.redis })
  await client.connect()
  const prefix = `${uniqueName('redis')}:`
  const backend = redisBackend({ client: nodeRedisAdapter(client), prefix })
  return {
    env: { SESSION_BACKEND: 'redis', REDIS_URL: SERVICE_URLS.redis, SESSION_PREFIX: prefix },
    backend,
    keepsExpired: false,
    close: async () => {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*` }))
        if (keys.length) await client.del(keys)
      await client.close()
    },
  }
}

const memcached: Setup = async () => {
  const client = createMemcachedClient({ servers: SERVICE_URLS.memcached.split(',') })
  const prefix = `${uniqueName('mc')}:`
  return {
    env: { SESSION_BACKEND: 'memcached', MEMCACHED_SERVERS: SERVICE_URLS.memcached, SESSION_PREFIX: prefix },
    backend: memcachedBackend({ client, prefix }),
    keepsExpired: false,
    close: () => client.close(),
  }
}

const cases: Array<[string, 'postgres' | 'mariadb' | 'redis' | 'memcached' | null, Setup]> = [
  ['SQLite native', null, sqlite('native')],
  ['SQLite django', null, sqlite('django')],
  ['SQLite django with a user table', null, sqlite('django', true)],
  ['PostgreSQL native', 'postgres', postgres('native')],
  ['PostgreSQL django', 'postgres', postgres('django')],
  ['MariaDB native', 'mariadb', mariadb('native')],
  ['MariaDB django', 'mariadb', mariadb('django')],
  ['Redis', 'redis', redis],
  ['memcached', 'memcached', memcached],
]

for (const [name, service, setup] of cases) {
  const up = service === null ? true : await serviceAvailable(service)
  describe.skipIf(!up)(`sessionbridge CLI on ${name}`, () => {
    let store: StoreCase
    let ids: Awaited<ReturnType<typeof seed>>
    beforeAll(async () => {
      store = await setup()
      ids = await seed(store.backend)
    })
    afterAll(() => store?.close())

    it('inspect shows data, user and expiry, with secrets redacted', async () => {
      const run = await cli(store.env, 'inspect', ids.u2, '--json')
      expect(run.code).toBe(EXIT.ok)
      const shown = JSON.parse(run.out)
      expect(shown.user).toBe('u2')
      expect(shown.data.note).toBe('hello')
      expect(shown.data._auth_user_hash).toBe('[redacted]')
      expect(Date.parse(shown.expires)).toBeGreaterThan(Date.now())
      expect(run.out).not.toContain('a'.repeat(40))
    })

    it('inspect of an unknown or malformed id exits 4', async () => {
      expect((await cli(store.env, 'inspect', store.backend.idFormat.generate())).code).toBe(EXIT.notFound)
      expect((await cli(store.env, 'inspect', '../../etc/passwd')).code).toBe(EXIT.notFound)
    })

    // The cases differ by what the store can find: each registers only the tests that apply to it.
    if (isListable(name))
      it('stats counts sessions per store and per user', async () => {
        const run = await cli(store.env, 'stats', '--json')
        expect(run.code).toBe(EXIT.ok)
        expect(JSON.parse(run.out)).toMatchObject({
          sessions: 5,
          anonymous: 1,
          users: 2,
          top: [
            { user: 'u1', sessions: 3 },
            { user: 'u2', sessions: 1 },
          ],
        })
        expect(run.err).toMatch(/stats: sessions read: \d+/) // the progress display
      })

    if (!isListable(name))
      it('stats is refused where the store cannot be listed', async () => {
        const stats = await cli(store.env, 'stats')
        expect(stats.code).toBe(EXIT.unsupported)
        expect(stats.err).toMatch(/nothing was changed|cannot/)
      })

    it('revoke logs one user out everywhere and nobody else', async () => {
      const run = await cli(store.env, 'revoke', '--user', 'u1')
      expect(run).toMatchObject({ code: EXIT.ok, out: 'revoked 3 sessions of user u1\n' })
      expect(run.err).toMatch(usesIndex(name) ? /^$/ : /revoke: sessions checked/)
      for (const id of ids.u1) expect(await store.backend.load(id)).toBeNull()
      expect(await store.backend.load(ids.u2)).not.toBeNull()
      expect(await store.backend.load(ids.anon)).not.toBeNull()
      if (isListable(name)) {
        const after = await cli(store.env, 'stats', '--user', 'u1')
        expect(after).toMatchObject({ code: EXIT.ok, out: '0\n' })
      }
    })

    it('clear-expired removes expired rows, or says the store expires them itself', async () => {
      const expired = await store.backend.create(
        store.backend.idFormat.generate(),
        sessionRecord('u3', Date.now() - 60_000),
      )
      const run = await cli(store.env, 'clear-expired')
      if (store.keepsExpired) {
        expect(run.code).toBe(EXIT.ok)
        expect(run.out).toMatch(/^removed [1-9]\d* expired sessions?\n$/)
        expect(await store.backend.load(ids.u2)).not.toBeNull()
      } else {
        expect(run.code).toBe(EXIT.unsupported)
        expect(run.err).toMatch(/TTL/)
      }
      // TTL stores round an expiry to whole seconds (memcached keeps it at least 1 s): only SQL is checked here.
      if (expired && store.keepsExpired) expect(await store.backend.load(expired)).toBeNull()
    })
  })
}

/** memcached cannot be listed (it finds a user's sessions by its user index only); every other store can. */
function isListable(name: string): boolean {
  return name !== 'memcached'
}

/** `revoke` asks the store's user index, rather than walking every session. */
function usesIndex(name: string): boolean {
  return !name.endsWith('django') // the Django layout without a user table is walked
}

describe('sessionbridge CLI errors', () => {
  it('a missing or wrong option exits 2 and names it', async () => {
    const none = await cli({}, 'stats')
    expect(none.code).toBe(EXIT.usage)
    expect(none.err).toMatch(/--backend/)
    const noUrl = await cli({ SESSION_BACKEND: 'sql' }, 'stats')
    expect(noUrl.code).toBe(EXIT.usage)
    expect(noUrl.err).toMatch(/--database-url/)
    expect((await cli({}, '--backend', 'nosuch', 'stats')).code).toBe(EXIT.usage)
    expect((await cli({}, 'nosuch-command')).code).toBe(EXIT.usage)
    const userTable = await cli({ SESSION_BACKEND: 'redis', SESSION_USER_TABLE: 'users' }, 'stats')
    expect(userTable.code).toBe(EXIT.usage)
    expect(userTable.err).toMatch(/--user-table.*django layout/)
  })

  it('a store that is down exits 1 within a bounded time, without a stack', async () => {
    const started = Date.now()
    const run = await cli({ SESSION_BACKEND: 'redis', REDIS_URL: 'redis://127.0.0.1:1' }, 'stats')
    expect(run.code).toBe(EXIT.failure)
    expect(run.err).toMatch(/^sessionbridge: cannot open redis/)
    expect(run.err).not.toMatch(/\n\s+at /)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('a SQLite path that does not exist is an error, not a new database', async () => {
    const path = `/tmp/${uniqueName('missing')}.sqlite3`
    const run = await cli(
      { SESSION_BACKEND: 'sql', SESSION_LAYOUT: 'native', DATABASE_URL: `sqlite:${path}` },
      'stats',
    )
    expect(run.code).toBe(EXIT.failure)
  })

  it('the bin runs as a process and sets its exit code', () => {
    const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))
    // The workspace's own condition: sibling packages from their sources (CONTRIBUTING.md).
    const node = ['--conditions=@sessionbridge/source', '--import', 'tsx']
    const result = spawnSync(process.execPath, [...node, bin, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    })
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/revoke/)
    const bad = spawnSync(process.execPath, [...node, bin, 'stats'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    })
    expect(bad.status).toBe(EXIT.usage)
    expect(bad.stderr).toMatch(/missing option "--backend"/)
  })
})
