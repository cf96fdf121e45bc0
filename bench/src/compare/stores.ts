// The sessionbridge backends the HTTP comparison runs on, each wrapped so that every command it
// sends to its server (or every call, for memory) is counted. Addresses come from the environment
// the orchestrator sets (see run.ts), so each server process reaches the same instances.

import { join } from 'node:path'
import { memoryBackend, type SessionBackend } from '@sessionbridge/core'
import { createMemcachedClient, memcachedBackend } from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { restSessionsBackend } from '@sessionbridge/rest-sessions'
import { undiciTransport } from '@sessionbridge/rest-sessions/undici'
import { migrate, mysqlClient, pgClient, type SqlClient, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createClient } from 'redis'
import { type CallCounter, countMethods } from './counting.ts'

export const STORE_NAMES = [
  'memory',
  'redis',
  'memcached',
  'postgres',
  'mariadb',
  'sqlite',
  'rest-sessions',
] as const
export type StoreName = (typeof STORE_NAMES)[number]

/** Where the services are; set by the orchestrator for its children. */
export const benchEnv = {
  redisUrl: () => process.env.SB_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  memcached: () => process.env.SB_BENCH_MEMCACHED ?? '127.0.0.1:11211',
  /**
   * The memcached client's per-command timeout, ms, for ours and the limit's alike. Under callgrind
   * (`http-instructions.ts`) a process runs about 50 times slower, and the client's default 1000 ms
   * timed a Koa increment's command out (503): the bench's clients wait longer. A timeout that does
   * not fire costs nothing, so the wrk runs measure the same either way.
   */
  memcachedTimeout: () => Number(process.env.SB_BENCH_MEMCACHED_TIMEOUT ?? 10_000),
  /** Set by the orchestrator (`services.ts`: a database of the run's own). */
  postgresUrl: () => process.env.SB_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  restSessionsUrl: () => process.env.SB_BENCH_RS_URL ?? 'http://127.0.0.1:3000',
  /** Set by the orchestrator (a database of the run's own). */
  mariadbUrl: () => process.env.SB_BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/mysql',
  /**
   * `BENCH_PG_PREPARED=0`: PostgreSQL statements unnamed, ours (`pgClient`'s `preparedStatements:
   * false`) and the limit's, to measure what naming them buys.
   */
  pgPrepared: () => process.env.BENCH_PG_PREPARED !== '0',
  /** Set by the orchestrator: each server process keeps its SQLite file there. */
  sqliteDir: () => process.env.SB_BENCH_SQLITE_DIR ?? '/tmp',
}

export interface OpenedStore {
  backend: SessionBackend
  close(): Promise<void>
}

/**
 * A SqlClient that counts statements; a transaction adds its BEGIN and COMMIT. It waits as the
 * client does (`waitsBounded` carried over: SQLite's calls run without a deadline of their own).
 */
function countSql(client: SqlClient, counter: CallCounter): SqlClient {
  const counted: SqlClient = {
    dialect: client.dialect,
    waitsBounded: client.waitsBounded,
    query: <Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]) => {
      counter.calls++
      return client.query<Row>(sql, params)
    },
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => {
      counter.calls += 2
      return client.transaction((tx) => fn(countSql(tx, counter)))
    },
  }
  if (client.queryRow) {
    counted.queryRow = (sql, params) => {
      counter.calls++
      return client.queryRow!(sql, params)
    }
  }
  // Counted when they ran: `null` (the statement must wait) hands it to `query`/`queryRow`.
  if (client.queryAtOnce) {
    counted.queryAtOnce = <Row>(sql: string, params?: readonly unknown[]) => {
      const result = client.queryAtOnce!<Row>(sql, params)
      if (result !== null) counter.calls++
      return result
    }
  }
  if (client.queryRowAtOnce) {
    counted.queryRowAtOnce = (sql, params) => {
      const row = client.queryRowAtOnce!(sql, params)
      if (row !== null) counter.calls++
      return row
    }
  }
  return counted
}

/** Opens the named backend, counting its commands into `counter`. */
export async function openStore(name: StoreName, counter: CallCounter): Promise<OpenedStore> {
  switch (name) {
    case 'memory': {
      // No I/O: the count is of backend calls, to show which ones a request makes.
      return { backend: countMethods(memoryBackend({ maxEntries: 100_000 }), counter), close: async () => {} }
    }
    case 'redis': {
      const client = createClient({ url: benchEnv.redisUrl() })
      await client.connect()
      const backend = redisBackend({
        client: countMethods(nodeRedisAdapter(client), counter),
        prefix: 'sbbench:sess:',
      })
      return { backend, close: async () => void client.destroy() }
    }
    case 'memcached': {
      const client = createMemcachedClient({
        servers: [benchEnv.memcached()],
        timeout: benchEnv.memcachedTimeout(),
      })
      const backend = memcachedBackend({ client: countMethods(client, counter), prefix: 'sbbench:' })
      return { backend, close: async () => client.close?.() }
    }
    case 'postgres': {
      const pool = new pg.Pool({ connectionString: benchEnv.postgresUrl(), max: 10 })
      const client = pgClient(pool, { preparedStatements: benchEnv.pgPrepared() })
      const table = 'sb_bench_session'
      await migrate(client, { layout: 'native', table })
      const backend = sqlBackend({ client: countSql(client, counter), layout: 'native', table })
      return { backend, close: () => pool.end() }
    }
    case 'mariadb': {
      const pool = mysql.createPool({ uri: benchEnv.mariadbUrl(), connectionLimit: 10 })
      const client = mysqlClient(pool)
      const table = 'sb_bench_session'
      await migrate(client, { layout: 'native', table })
      const backend = sqlBackend({ client: countSql(client, counter), layout: 'native', table })
      return { backend, close: () => pool.end() }
    }
    case 'sqlite': {
      const db = new Database(join(benchEnv.sqliteDir(), `session-${process.pid}.db`))
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      const client = sqliteClient(db)
      const table = 'sb_bench_session'
      await migrate(client, { layout: 'native', table })
      const backend = sqlBackend({ client: countSql(client, counter), layout: 'native', table })
      return { backend, close: async () => void db.close() }
    }
    case 'rest-sessions': {
      // undici's pooled client: src/rest-sessions.ts shows it several times faster than fetch on Node.
      const transport = undiciTransport()
      const backend = restSessionsBackend({
        url: benchEnv.restSessionsUrl(),
        app: 'sbbench',
        anonymousId: 'anonymous',
        transport: countMethods(transport, counter),
      })
      return { backend, close: async () => transport.close?.() }
    }
  }
}
