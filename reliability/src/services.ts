import { randomString } from '@sessionbridge/core/adapter'
import { SERVICE_URLS, uniqueName } from '@sessionbridge/test-services'
import mysql from 'mysql2/promise'
import pg from 'pg'

/**
 * This run's own database on the shared PostgreSQL and MariaDB servers: named once per run by
 * `test/global-setup.ts` (which drops it at the end), or per process when run outside vitest.
 */
export const REL_DATABASE = process.env.SB_REL_DATABASE ?? uniqueName('sb_rel')

/** A key prefix of our own on the shared Redis/memcached: `sbt:rel:<random>:`. */
export const relPrefix = (what = ''): string =>
  `sbt:rel:${randomString(8, 'abcdefghijklmnopqrstuvwxyz0123456789')}:${what ? `${what}:` : ''}`

/** A table name of our own (lower case, unique per call). */
export const relTable = (what: string): string =>
  `rel_${what}_${randomString(6, 'abcdefghijklmnopqrstuvwxyz0123456789')}`

/** `host:port` of a service URL. */
export const hostOf = (url: string): string => new URL(url).host

/** Creates `REL_DATABASE` on PostgreSQL if it is missing (tolerates a concurrent creator). */
export async function ensurePgDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: SERVICE_URLS.postgres })
  await client.connect()
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [REL_DATABASE])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${REL_DATABASE}`).catch(() => {})
  } finally {
    await client.end()
  }
}

/**
 * A pg pool on `REL_DATABASE` through `address` (`host:port`), with the error handler pg asks for;
 * `queryTimeout` is pg's own client-side `query_timeout`, ms.
 */
export function pgPool(address = hostOf(SERVICE_URLS.postgres), max = 10, queryTimeout?: number): pg.Pool {
  const url = new URL(SERVICE_URLS.postgres)
  url.host = address
  url.pathname = `/${REL_DATABASE}`
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max,
    connectionTimeoutMillis: 2000,
    ...(queryTimeout ? { query_timeout: queryTimeout } : {}),
  })
  pool.on('error', () => {}) // idle connections killed by a fault: the pool drops them
  return pool
}

/** Creates `REL_DATABASE` on MariaDB if it is missing. */
export async function ensureMariaDatabase(): Promise<void> {
  const connection = await mysql.createConnection(SERVICE_URLS.mariadb)
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS ${REL_DATABASE}`)
  } finally {
    await connection.end()
  }
}

/** A mysql2 pool on `REL_DATABASE` through `address` (`host:port`). */
export function mariaPool(address = hostOf(SERVICE_URLS.mariadb), connectionLimit = 10): mysql.Pool {
  const url = new URL(SERVICE_URLS.mariadb)
  url.host = address
  url.pathname = `/${REL_DATABASE}`
  return mysql.createPool({ uri: url.toString(), connectionLimit, connectTimeout: 2000 })
}
