// The limit rows: the bare framework plus the raw round trips a session read (one) or write (two)
// needs on each store, through the same client sessionbridge's row uses, with no session library
// in between: no cookie signature, no codec beyond one JSON.parse/stringify of `{ count }`. What
// sessionbridge costs on a store is then "x of its limit".
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createMemcachedClient } from '@sessionbridge/memcached'
import { undiciTransport } from '@sessionbridge/rest-sessions/undici'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createClient } from 'redis'
import type { CallCounter } from './counting.ts'
import { benchEnv, type StoreName } from './stores.ts'

/** The raw store behind a limit row: one round trip per call. */
export interface LimitStore {
  /** Creates a record; answers the cookie value that names it. */
  seed(): Promise<string>
  /** One round trip: the stored count, or null. */
  read(key: string): Promise<number | null>
  /** One round trip: stores the count. */
  write(key: string, count: number): Promise<void>
  close(): Promise<void>
}

const TABLE = 'sb_bench_limit'
const countOf = (text: string | null | undefined): number | null =>
  typeof text === 'string' ? ((JSON.parse(text) as { count?: number }).count ?? 0) : null
const body = (count: number) => JSON.stringify({ count })
const newKey = () => randomBytes(24).toString('base64url')

/** Opens the raw client of `store` (the same library and settings as `openStore`). */
export async function openLimit(store: StoreName, counter: CallCounter): Promise<LimitStore> {
  const seeded = (write: (key: string) => Promise<void>) => async () => {
    const key = newKey()
    await write(key)
    return key
  }
  switch (store) {
    case 'memory': {
      const map = new Map<string, string>()
      const write = async (key: string, count: number) => void map.set(key, body(count))
      return {
        seed: seeded((key) => write(key, 0)),
        read: async (key) => countOf(map.get(key)),
        write,
        close: async () => {},
      }
    }
    case 'redis': {
      const client = createClient({ url: benchEnv.redisUrl() })
      await client.connect()
      const write = async (key: string, count: number) => {
        counter.calls++
        await client.set(`sbbench:limit:${key}`, body(count), { EX: 3600 })
      }
      return {
        seed: seeded((key) => write(key, 0)),
        read: async (key) => {
          counter.calls++
          return countOf(await client.get(`sbbench:limit:${key}`))
        },
        write,
        close: async () => void client.destroy(),
      }
    }
    case 'memcached': {
      const client = createMemcachedClient({
        servers: [benchEnv.memcached()],
        timeout: benchEnv.memcachedTimeout(),
      })
      const write = async (key: string, count: number) => {
        counter.calls++
        await client.set(`sbbench:limit:${key}`, body(count), { exptime: 3600 })
      }
      return {
        seed: seeded((key) => write(key, 0)),
        read: async (key) => {
          counter.calls++
          return countOf((await client.get(`sbbench:limit:${key}`))?.value)
        },
        write,
        close: async () => client.close?.(),
      }
    }
    case 'postgres': {
      const pool = new pg.Pool({ connectionString: benchEnv.postgresUrl(), max: 10 })
      await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id text PRIMARY KEY, data text NOT NULL)`)
      const read = `SELECT data FROM ${TABLE} WHERE id = $1`
      const write = `UPDATE ${TABLE} SET data = $2 WHERE id = $1`
      // Named, as sessionbridge's pgClient runs its statements (each connection parses them once),
      // unless BENCH_PG_PREPARED=0 measures both unnamed; and passed as pgClient passes them: a
      // config inheriting `name` and `text`, the values apart (pg copies a config's own properties
      // per query, about 0.6 µs each).
      const named = (name: string, text: string) =>
        benchEnv.pgPrepared() ? Object.freeze({ name, text }) : null
      const statements = { read: named('limit_read', read), write: named('limit_write', write) }
      const run = (statement: { name: string; text: string } | null, text: string, values: string[]) =>
        statement ? pool.query<{ data: string }>(Object.create(statement), values) : pool.query(text, values)
      return {
        seed: seeded(
          async (key) => void (await pool.query(`INSERT INTO ${TABLE} VALUES ($1, $2)`, [key, body(0)])),
        ),
        read: async (key) => {
          counter.calls++
          const { rows } = await run(statements.read, read, [key])
          return countOf(rows[0]?.data)
        },
        write: async (key, count) => {
          counter.calls++
          await run(statements.write, write, [key, body(count)])
        },
        close: () => pool.end(),
      }
    }
    case 'mariadb': {
      const pool = mysql.createPool({ uri: benchEnv.mariadbUrl(), connectionLimit: 10 })
      await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id varchar(64) PRIMARY KEY, data text NOT NULL)`)
      const execute = (sql: string, values: string[]) =>
        new Promise<unknown>((resolve, reject) =>
          pool.pool.execute(sql, values, (error, rows) => (error ? reject(error) : resolve(rows))),
        )
      return {
        seed: seeded(
          async (key) => void (await pool.execute(`INSERT INTO ${TABLE} VALUES (?, ?)`, [key, body(0)])),
        ),
        // On the callback pool under the promise one, as sessionbridge's mysqlClient runs its
        // statements: the promise wrapper captures a stack trace per statement (mysql2's `trace`).
        read: async (key) => {
          counter.calls++
          const rows = await execute(`SELECT data FROM ${TABLE} WHERE id = ?`, [key])
          return countOf((rows as { data: string }[])[0]?.data)
        },
        write: async (key, count) => {
          counter.calls++
          await execute(`UPDATE ${TABLE} SET data = ? WHERE id = ?`, [body(count), key])
        },
        close: () => pool.end(),
      }
    }
    case 'sqlite': {
      const db = new Database(join(benchEnv.sqliteDir(), `limit-${process.pid}.db`))
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (id text PRIMARY KEY, data text NOT NULL)`)
      const insert = db.prepare(`INSERT INTO ${TABLE} VALUES (?, ?)`)
      const select = db.prepare<[string], { data: string }>(`SELECT data FROM ${TABLE} WHERE id = ?`)
      const update = db.prepare(`UPDATE ${TABLE} SET data = ? WHERE id = ?`)
      return {
        seed: seeded(async (key) => void insert.run(key, body(0))),
        read: async (key) => {
          counter.calls++
          return countOf(select.get(key)?.data)
        },
        write: async (key, count) => {
          counter.calls++
          update.run(body(count), key)
        },
        close: async () => void db.close(),
      }
    }
    case 'rest-sessions': {
      const transport = undiciTransport()
      const base = `${benchEnv.restSessionsUrl()}/sbbench`
      // The deadline the backend gives each call (its default timeout), kept by the transport as
      // for sessionbridge's row (`keepsTimeout`: one signal shared by the calls of 100 ms). Before
      // 2026-12-05 a signal per call (`AbortSignal.timeout()`), then one that never aborted.
      const timeout = 2000
      const call = async (method: 'GET' | 'PUT' | 'POST', path: string, json?: unknown) => {
        const response = await transport.request({
          method,
          url: `${base}${path}`,
          body: json === undefined ? undefined : JSON.stringify(json),
          timeout,
        })
        return JSON.parse(response.body) as Record<string, unknown>
      }
      return {
        seed: async () =>
          (await call('PUT', '/create/limit?ip=127.0.0.1&ttl=3600', { count: 0 })).token as string,
        read: async (key) => {
          counter.calls++
          const d = (await call('GET', `/get/${key}`)).d as { count?: number } | undefined
          return d ? (d.count ?? 0) : null
        },
        write: async (key, count) => {
          counter.calls++
          await call('POST', `/set/${key}`, { count })
        },
        close: async () => transport.close?.(),
      }
    }
  }
}
