import { SERVICE_URLS } from '@sessionbridge/test-services'
import mysql from 'mysql2/promise'
import pg from 'pg'

/** This package's own database on each server: nobody else uses `sb_sql`. */
export const DATABASE = 'sb_sql'

/** The service URL pointed at `database` instead of the default one. */
export function urlFor(service: 'postgres' | 'mariadb', database = DATABASE): string {
  const url = new URL(SERVICE_URLS[service])
  url.pathname = `/${database}`
  return url.toString()
}

/** Creates `sb_sql` on PostgreSQL if missing (connecting to the default database to do so). */
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

/** Creates `sb_sql` on MariaDB if missing. */
export async function ensureMariadbDatabase(): Promise<void> {
  const admin = await mysql.createConnection(SERVICE_URLS.mariadb)
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS ${DATABASE} CHARACTER SET utf8mb4`)
  } finally {
    await admin.end()
  }
}
