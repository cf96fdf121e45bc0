import { SERVICE_URLS, uniqueName } from '@sessionbridge/test-services'
import mysql from 'mysql2/promise'
import pg from 'pg'

/** This run's own database on each server (`sb_sql_<pid>_<random>`), dropped by the suites' afterAll. */
export const DATABASE = uniqueName('sb_sql')

/** The service URL pointed at `database` instead of the default one. */
export function urlFor(service: 'postgres' | 'mariadb', database = DATABASE): string {
  const url = new URL(SERVICE_URLS[service])
  url.pathname = `/${database}`
  return url.toString()
}

/** Creates `DATABASE` on PostgreSQL if missing (connecting to the default database to do so). */
export async function ensurePostgresDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: SERVICE_URLS.postgres })
  await admin.connect()
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error // created meanwhile by another run
      })
    }
  } finally {
    await admin.end()
  }
}

/** Creates `DATABASE` on MariaDB if missing. */
export async function ensureMariadbDatabase(): Promise<void> {
  const admin = await mysql.createConnection(SERVICE_URLS.mariadb)
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS ${DATABASE} CHARACTER SET utf8mb4`)
  } finally {
    await admin.end()
  }
}

/** Drops `DATABASE` on PostgreSQL (closing what still uses it). */
export async function dropPostgresDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: SERVICE_URLS.postgres })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`)
  } finally {
    await admin.end()
  }
}

/** Drops `DATABASE` on MariaDB. */
export async function dropMariadbDatabase(): Promise<void> {
  const admin = await mysql.createConnection(SERVICE_URLS.mariadb)
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`)
  } finally {
    await admin.end()
  }
}
