import { serviceAvailable, uniqueName } from '@sessionbridge/test-services'
import pg from 'pg'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  migrate,
  pgClient,
  postgresJsClient,
  type SqlClient,
  type SqlLayout,
  sqlBackend,
} from '../src/index.ts'
import { dropPostgresDatabase, ensurePostgresDatabase, urlFor } from './databases.ts'
import { base64JsonCodec, expectBackendError, record, sleep, sqlSuite } from './suite.ts'

const up = await serviceAvailable('postgres')
// Other runs on this machine kill connections by application_name too: ours is unique to this run.
const APP_NAME = uniqueName('sbt_sql_pg')

describe.skipIf(!up)('PostgreSQL 15', () => {
  let pool: pg.Pool
  let sql: postgres.Sql
  let poolClient: SqlClient
  let jsClient: SqlClient
  const poolErrors: Error[] = []

  beforeAll(async () => {
    await ensurePostgresDatabase()
    pool = new pg.Pool({ connectionString: urlFor('postgres'), max: 10, application_name: APP_NAME })
    pool.on('error', (error) => poolErrors.push(error)) // idle connections killed by the fault tests
    sql = postgres(urlFor('postgres'), {
      max: 10,
      onnotice: () => {},
      connection: { application_name: `${APP_NAME}_js` },
    })
    poolClient = pgClient(pool)
    jsClient = postgresJsClient(sql)
  })
  afterAll(async () => {
    await pool?.end()
    await sql?.end()
    await dropPostgresDatabase()
  })

  describe('via pg (node-postgres)', () => {
    sqlSuite({ name: 'PostgreSQL (pg)', prefix: 'pg', client: () => poolClient })
  })
  describe('via postgres.js', () => {
    sqlSuite({ name: 'PostgreSQL (postgres.js)', prefix: 'pgjs', client: () => jsClient })
  })

  describe('faults: pg_terminate_backend', () => {
    const backendFor = (layout: SqlLayout) =>
      sqlBackend({
        client: poolClient,
        layout,
        table: `sbt_pg_${layout}`,
        ...(layout === 'django' ? { codec: base64JsonCodec } : {}),
      })

    for (const layout of ['native', 'django'] as const) {
      it(`${layout}: a connection killed mid-save fails that save with SessionBackendError, and the next one works`, async () => {
        const backend = backendFor(layout)
        const rec = record({ a: 1 }, 3_600_000, '42')
        const id = (await backend.create(backend.idFormat.generate(), rec))!
        const key = layout === 'native' ? 'id' : 'session_key'
        // Hold the row lock elsewhere so the backend's save is provably in flight when we kill it.
        const blocker = new pg.Client({ connectionString: urlFor('postgres') })
        await blocker.connect()
        try {
          await blocker.query('BEGIN')
          await blocker.query(`SELECT 1 FROM sbt_pg_${layout} WHERE ${key} = $1 FOR UPDATE`, [id])
          const pending = backend.save(
            id,
            { set: { a: 2 }, deleted: [] },
            { ...rec, data: { ...rec.data, a: 2 } },
          )
          // It may fail while we still await the terminate: handled below, not an unhandled rejection.
          pending.catch(() => {})
          let pid: number | undefined
          for (let i = 0; i < 500 && pid === undefined; i++) {
            // pg_stat_activity is snapshotted once per transaction: ask afresh each time.
            await blocker.query('SELECT pg_stat_clear_snapshot()')
            const { rows } = await blocker.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity WHERE application_name = $2 AND datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
              [`%sbt_pg_${layout}%`, APP_NAME],
            )
            pid = rows[0]?.pid
            if (pid === undefined) await sleep(10)
          }
          expect(pid, 'the save never blocked on the row lock').toBeTypeOf('number')
          await blocker.query('SELECT pg_terminate_backend($1)', [pid])
          const error = await expectBackendError(pending)
          expect(error.operation).toBe('save')
          expect(error.message).toMatch(/terminat/i)
        } finally {
          await blocker.query('ROLLBACK')
          await blocker.end()
        }
        expect(await backend.save(id, { set: { b: 3 }, deleted: [] }, rec)).toBe(true)
        expect((await backend.load(id))?.data).toMatchObject({ a: 1, b: 3 })
      })
    }

    it('recovers after every idle pool connection is killed', async () => {
      const backend = backendFor('native')
      const id = (await backend.create(backend.idFormat.generate(), record({ a: 1 })))!
      const admin = new pg.Client({ connectionString: urlFor('postgres') })
      await admin.connect()
      try {
        const { rows } = await admin.query(
          'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
          [APP_NAME],
        )
        expect(rows.length).toBeGreaterThan(0)
      } finally {
        await admin.end()
      }
      // The pool notices the dead sockets asynchronously; once it has dropped them, requests work again.
      for (let i = 0; i < 200 && pool.totalCount > 0; i++) await sleep(10)
      expect((await backend.load(id))?.data.a).toBe(1)
      expect(poolErrors.length).toBeGreaterThan(0)
    })
  })

  it('passes statements through unchanged: $n binds, and ? is the jsonb operator (via a real server)', async () => {
    for (const client of [poolClient, jsClient]) {
      const { rows } = await client.query<{ a: string; has: boolean; c: string }>(
        `SELECT $1::text AS a, $2::text::jsonb ? 'k' AS has, $$is it?$$ || $3::text AS c -- really?`,
        ['one', '{"k": 1}', 'two'],
      )
      expect(rows[0]).toEqual({ a: 'one', has: true, c: 'is it?two' })
    }
  })
  describe('pg: named statements', () => {
    // One connection, so pg_prepared_statements shows what the backend's connection holds.
    const withOnePool = async (fn: (one: pg.Pool) => Promise<void>) => {
      const one = new pg.Pool({ connectionString: urlFor('postgres'), max: 1, application_name: APP_NAME })
      try {
        await fn(one)
      } finally {
        await one.end()
      }
    }
    const held = async (one: pg.Pool) =>
      (await one.query<{ name: string }>('SELECT name FROM pg_prepared_statements')).rows.map(
        (row) => row.name,
      )
    const exercise = async (client: SqlClient, table: string) => {
      await migrate(client, { layout: 'native', table })
      const backend = sqlBackend({ client, layout: 'native', table })
      const id = (await backend.create(backend.idFormat.generate(), record({ a: 1 })))!
      expect((await backend.load(id))?.data.a).toBe(1)
      return { backend, id }
    }

    it('runs the backend statements prepared once per connection', () =>
      withOnePool(async (one) => {
        const { backend, id } = await exercise(pgClient(one), 'sbt_pg_named')
        const names = await held(one)
        expect(names.length).toBeGreaterThanOrEqual(2)
        for (const name of names) expect(name).toMatch(/^sb_[0-9a-f]{16}$/)
        expect((await backend.load(id))?.data.a).toBe(1)
        expect(await held(one)).toEqual(names) // a second run parses nothing new
      }))

    it('passes a named statement as a config with no own properties, the values apart (pg copies own ones per query)', () =>
      withOnePool(async (one) => {
        const seen: { own: string[]; name: unknown; text: unknown; values: unknown }[] = []
        const watched = {
          query: (config: unknown, values?: unknown[]) => {
            if (typeof config !== 'string') {
              const { name, text } = config as { name: unknown; text: unknown }
              seen.push({ own: Reflect.ownKeys(config as object).map(String), name, text, values })
            }
            return one.query(config as string, values)
          },
          connect: () => one.connect(),
        }
        const { backend, id } = await exercise(pgClient(watched), 'sbt_pg_config')
        expect(seen.length).toBeGreaterThanOrEqual(2)
        for (const config of seen) {
          expect(config.own).toEqual([])
          expect(config.name).toMatch(/^sb_[0-9a-f]{16}$/)
          expect(typeof config.text).toBe('string')
          expect(Array.isArray(config.values)).toBe(true)
        }
        expect(seen.some((config) => (config.values as unknown[]).includes(id))).toBe(true)
        expect((await backend.load(id))?.data.a).toBe(1)
      }))

    it('with preparedStatements: false, prepares nothing', () =>
      withOnePool(async (one) => {
        await exercise(pgClient(one, { preparedStatements: false }), 'sbt_pg_unnamed')
        expect(await held(one)).toEqual([])
      }))

    it('a server that lost them (as PgBouncer in transaction mode does): the statement runs unnamed, and the rest too', () =>
      withOnePool(async (one) => {
        const { backend, id } = await exercise(pgClient(one), 'sbt_pg_lost')
        expect((await held(one)).length).toBeGreaterThan(0)
        await one.query('DEALLOCATE ALL') // pg still believes its connection holds them
        expect((await backend.load(id))?.data.a).toBe(1)
        expect(await backend.save(id, { set: { a: 2 }, deleted: [], read: {} }, record({ a: 2 }))).toBe(true)
        expect((await backend.load(id))?.data.a).toBe(2)
        expect(await held(one)).toEqual([])
      }))

    // Last: it fills the process's cache of names, after which new texts run unnamed.
    it('names at most 256 texts a process runs: later ones run unnamed', () =>
      withOnePool(async (one) => {
        const client = pgClient(one)
        for (let k = 0; k < 300; k++) {
          const { rows } = await client.query<{ n: number }>(`SELECT $1::int + ${k} AS n`, [1])
          expect(rows[0]?.n).toBe(k + 1)
        }
        const names = await held(one)
        expect(names.length).toBeGreaterThan(0)
        expect(names.length).toBeLessThanOrEqual(256)
      }))
  })
})
