import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SessionBackendError } from '@sessionbridge/core'
import { testAttemptStore } from '@sessionbridge/core/testing'
import { serviceAvailable } from '@sessionbridge/test-services'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlClient, pgClient, type SqlClient, sqlAttemptStore, sqliteClient } from '../src/index.ts'
import { ensureMariadbDatabase, ensurePostgresDatabase, urlFor } from './databases.ts'

// Every run gets its own table: other suites share these servers.
const table = `sbt_attempt_${process.pid}_${Math.random().toString(36).slice(2, 8)}`

interface Target {
  name: string
  available: boolean
  open(): Promise<{ client: SqlClient; close(): Promise<void> }>
}

const targets: Target[] = [
  {
    name: 'SQLite (better-sqlite3)',
    available: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'sb-sql-attempts-'))
      const db = new Database(join(dir, 'attempts.db'))
      db.pragma('journal_mode = WAL')
      return {
        client: sqliteClient(db),
        async close() {
          db.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  },
  {
    name: 'PostgreSQL (pg)',
    available: await serviceAvailable('postgres'),
    async open() {
      await ensurePostgresDatabase()
      const pool = new pg.Pool({ connectionString: urlFor('postgres'), max: 8 })
      return { client: pgClient(pool), close: () => pool.end() }
    },
  },
  {
    name: 'MariaDB (mysql2)',
    available: await serviceAvailable('mariadb'),
    async open() {
      await ensureMariadbDatabase()
      const pool = mysql.createPool({ uri: urlFor('mariadb'), connectionLimit: 8 })
      return { client: mysqlClient(pool), close: () => pool.end() }
    },
  },
]

for (const target of targets) {
  describe.skipIf(!target.available)(`sqlAttemptStore on ${target.name}`, () => {
    let opened: { client: SqlClient; close(): Promise<void> }
    beforeAll(async () => {
      opened = await target.open()
      await sqlAttemptStore({ client: opened.client, table }).migrate()
    })
    afterAll(async () => {
      await opened?.client.query(`DROP TABLE IF EXISTS ${table}`)
      await opened?.close()
    })

    testAttemptStore({ name: target.name, store: () => sqlAttemptStore({ client: opened.client, table }) })

    it('sweeps rows of ended windows', async () => {
      let now = Date.now()
      const store = sqlAttemptStore({ client: opened.client, table, now: () => now })
      await store.hit('u:sweep-a', 1000)
      await store.hit('u:sweep-b', 60_000)
      now += 5000
      expect(await store.clearExpired()).toBeGreaterThanOrEqual(1)
      expect((await store.hit('u:sweep-b', 60_000)).count).toBe(2)
    })
  })
}

describe('sqlAttemptStore failures', () => {
  it('wraps driver errors as SessionBackendError and checks its options', async () => {
    const broken: SqlClient = {
      dialect: 'postgres',
      query: () => Promise.reject(new Error('connection refused')),
      transaction: () => Promise.reject(new Error('connection refused')),
    }
    await expect(sqlAttemptStore({ client: broken }).hit('u:x', 1000)).rejects.toBeInstanceOf(
      SessionBackendError,
    )
    expect(() => sqlAttemptStore({ client: broken, table: 'bad name' })).toThrow(/table/)
  })
})
