import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { passwordHashers } from '@sessionbridge/django'
import { mysqlClient, pgClient, type SqlClient, sqliteClient } from '@sessionbridge/sql'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { type ExampleConfig, sqlitePath } from './config.ts'
import { djangoInstalled, manage } from './django.ts'
import { createDjangoSchema, seedUser } from './schema.ts'

/** The demo account every fresh database gets. */
export const DEMO_USER = Object.freeze({
  username: 'demo',
  password: 'demo-password',
  email: 'demo@example.com',
})

/** An open database: the client the backend and the users share, and how to close it. */
export interface ExampleDatabase {
  client: SqlClient
  /** How it was prepared: `existing`, `created by Django's migrate`, `created by Node`. */
  origin: string
  close(): Promise<void>
}

/** Hashes a password as `make_password` of that Django does (pbkdf2_sha256 at its work factor). */
export const hashDjangoPassword = (
  password: string,
  djangoVersion: ExampleConfig['djangoVersion'] = '3.2',
): Promise<string> => passwordHashers({ djangoVersion }).make(password)

async function hasDjangoTables(client: SqlClient): Promise<boolean> {
  const sql =
    client.dialect === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'auth_user'"
      : client.dialect === 'postgres'
        ? "SELECT table_name FROM information_schema.tables WHERE table_name = 'auth_user' AND table_schema = current_schema()"
        : "SELECT table_name FROM information_schema.tables WHERE table_name = 'auth_user' AND table_schema = DATABASE()"
  return (await client.query(sql)).rows.length > 0
}

async function seedDemo(client: SqlClient, djangoVersion: ExampleConfig['djangoVersion']): Promise<void> {
  await seedUser(client, {
    username: DEMO_USER.username,
    email: DEMO_USER.email,
    firstName: 'Demo',
    passwordHash: await hashDjangoPassword(DEMO_USER.password, djangoVersion),
  })
}

function openSqlite(path: string): { client: SqlClient; close(): Promise<void> } {
  const db = new Database(path)
  // WAL lets Django's process read while a Node app writes. A lock Django holds is waited for on
  // timers, up to 5 s (the adapter's lockWaitMs): never by blocking the event loop.
  db.pragma('journal_mode = WAL')
  return {
    client: sqliteClient(db, { lockWaitMs: 5000 }),
    close: async () => {
      db.close()
    },
  }
}

/**
 * Opens `config.databaseUrl`. A SQLite file that does not exist yet is created with Django's
 * schema (by Django's own `migrate` where Django is installed, else from Node) and gets the demo
 * user; an empty PostgreSQL or MySQL/MariaDB database gets the same from Node. An existing Django
 * database is used as it is, users and all.
 */
export async function openDatabase(config: ExampleConfig): Promise<ExampleDatabase> {
  const file = sqlitePath(config.databaseUrl)
  if (file !== null) {
    let origin = 'existing'
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true })
      if (await djangoInstalled('sqlite:', undefined, config.djangoVersion)) {
        await manage(config, ['migrate', '--no-input', '-v', '0'])
        await manage(config, ['seed_demo'])
        origin = "created by Django's migrate"
      } else {
        const fresh = openSqlite(file)
        try {
          await createDjangoSchema(fresh.client)
          await seedDemo(fresh.client, config.djangoVersion)
        } finally {
          await fresh.close()
        }
        origin = 'created with Django\u2019s schema by Node'
      }
    }
    return { ...openSqlite(file), origin }
  }
  const server = config.databaseUrl.startsWith('mysql://')
    ? openMysql(config.databaseUrl)
    : openPostgres(config.databaseUrl)
  let origin = 'existing'
  try {
    if (!(await hasDjangoTables(server.client))) {
      await createDjangoSchema(server.client)
      await seedDemo(server.client, config.djangoVersion)
      origin = 'created with Django\u2019s schema by Node'
    }
  } catch (error) {
    await server.close()
    throw error
  }
  return { ...server, origin }
}

function openPostgres(url: string): { client: SqlClient; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 5 })
  // An idle connection killed by the server must not crash the process.
  pool.on('error', () => {})
  return { client: pgClient(pool), close: () => pool.end() }
}

function openMysql(url: string): { client: SqlClient; close(): Promise<void> } {
  // Django keeps naive UTC datetimes on MySQL/MariaDB: read and write them as UTC ('Z').
  const pool = mysql.createPool({ uri: url, connectionLimit: 10, timezone: 'Z' })
  return { client: mysqlClient(pool), close: () => pool.end() }
}
