import { SessionDataError } from '@sessionbridge/core'
import { serviceAvailable } from '@sessionbridge/test-services'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlClient, type SqlClient, sqlBackend } from '../src/index.ts'
import { dropMariadbDatabase, ensureMariadbDatabase, urlFor } from './databases.ts'
import { base64JsonCodec, record, sqlSuite } from './suite.ts'

const up = await serviceAvailable('mariadb')

describe.skipIf(!up)('MariaDB 10.11 (mysql2)', () => {
  let pool: mysql.Pool
  let client: SqlClient

  beforeAll(async () => {
    await ensureMariadbDatabase()
    pool = mysql.createPool({ uri: urlFor('mariadb'), connectionLimit: 10 })
    client = mysqlClient(pool)
  })
  afterAll(async () => {
    await pool?.end()
    await dropMariadbDatabase()
  })

  sqlSuite({ name: 'MariaDB (mysql2)', prefix: 'maria', client: () => client })

  it('stores expire_date as naive UTC datetime(6), whatever the session time zone', async () => {
    const backend = sqlBackend({
      client,
      layout: 'django',
      table: 'sbt_maria_django',
      codec: base64JsonCodec,
    })
    const at = Date.UTC(2031, 4, 6, 7, 8, 9, 250)
    const id = (await backend.create(backend.idFormat.generate(), { ...record({}), expiresAt: at }))!
    const { rows } = await client.query<{ v: string }>(
      'SELECT CAST(expire_date AS CHAR) AS v FROM sbt_maria_django WHERE session_key = ?',
      [id],
    )
    expect(rows[0]?.v).toBe('2031-05-06 07:08:09.250000')
    expect((await backend.load(id))?.expiresAt).toBe(at)
  })

  it('names max_allowed_packet when the server refuses a session, and the next request still works', async () => {
    const { rows } = await client.query<{ m: number }>('SELECT @@max_allowed_packet AS m')
    const limit = Number(rows[0]?.m)
    const backend = sqlBackend({ client, layout: 'native', table: 'sbt_maria_native', maxDataBytes: null })
    const huge = record({ big: 'x'.repeat(limit + 1024) })
    const error = await backend.create(backend.idFormat.generate(), huge).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionDataError)
    expect((error as Error).message).toMatch(/max_allowed_packet/)
    const id = (await backend.create(backend.idFormat.generate(), record({ small: true })))!
    expect((await backend.load(id))?.data.small).toBe(true)
  })

  it('keeps ids case-sensitive in the native table (binary collation)', async () => {
    const backend = sqlBackend({
      client,
      layout: 'native',
      table: 'sbt_maria_native',
      idFormat: { generate: () => 'Ab'.repeat(16), validate: (id) => /^[A-Za-z]{32}$/.test(id) },
    })
    await client.query('DELETE FROM sbt_maria_native WHERE id IN (?, ?)', ['Ab'.repeat(16), 'aB'.repeat(16)])
    expect(await backend.create('Ab'.repeat(16), record({ who: 'upper first' }))).toBe('Ab'.repeat(16))
    expect(await backend.create('aB'.repeat(16), record({ who: 'lower first' }))).toBe('aB'.repeat(16))
    expect((await backend.load('aB'.repeat(16)))?.data.who).toBe('lower first')
  })

  it('runs statements outside transactions on the callback pool (no stack captured per statement), and on execute without one', async () => {
    const used: string[] = []
    const watched = {
      execute: (sql: string, values?: never) => {
        used.push('promise')
        return pool.execute(sql, values)
      },
      getConnection: () => pool.getConnection(),
      pool: {
        execute: (sql: string, values: never, callback: (error: Error | null, result: never) => void) => {
          used.push('callback')
          return pool.pool.execute(sql, values, callback)
        },
      },
    }
    const backend = sqlBackend({ client: mysqlClient(watched), layout: 'native', table: 'sbt_maria_native' })
    const id = (await backend.create(backend.idFormat.generate(), record({ via: 'callback' })))!
    expect((await backend.load(id))?.data.via).toBe('callback')
    expect(used.length).toBeGreaterThanOrEqual(2)
    expect(new Set(used)).toEqual(new Set(['callback']))
    // A failing statement rejects with the driver's error.
    const failing = mysqlClient(watched).query('SELECT * FROM sbt_maria_no_such_table')
    await expect(failing).rejects.toMatchObject({ code: 'ER_NO_SUCH_TABLE' })

    used.length = 0
    const { pool: _callbackPool, ...promiseOnly } = watched
    const plain = sqlBackend({
      client: mysqlClient(promiseOnly),
      layout: 'native',
      table: 'sbt_maria_native',
    })
    expect((await plain.load(id))?.data.via).toBe('callback')
    expect(used).toEqual(['promise'])
  })

  it("prepares each connection's statements once and runs them as prepared; one mysql2 closed is prepared again", async () => {
    // One connection, and mysql2 keeping two prepared statements on it: a third closes the oldest.
    const small = mysql.createPool({ uri: urlFor('mariadb'), connectionLimit: 1, maxPreparedStatements: 2 })
    const prepared: string[] = []
    const callbacks = small.pool as unknown as {
      getConnection(
        cb: (error: Error | null, conn: { prepare: (...args: unknown[]) => unknown }) => void,
      ): void
    }
    const getConnection = callbacks.getConnection.bind(callbacks)
    callbacks.getConnection = (cb) =>
      getConnection((error, conn) => {
        if (conn && !Object.hasOwn(conn, 'prepare')) {
          const own = conn.prepare.bind(conn)
          conn.prepare = (sql: unknown, ...rest: unknown[]) => {
            prepared.push(String(sql))
            return own(sql, ...rest)
          }
        }
        cb(error, conn)
      })
    try {
      const c = mysqlClient(small)
      const one = 'SELECT ? + 1 AS v'
      for (let i = 0; i < 5; i++) expect((await c.query<{ v: number }>(one, [i])).rows[0]?.v).toBe(i + 1)
      expect(prepared).toEqual([one])
      // Two more statements: mysql2 closes `one` on the server; kept here, it is prepared again.
      const two = 'SELECT ? + 2 AS v'
      const three = 'SELECT ? + 3 AS v'
      expect((await c.query<{ v: number }>(two, [0])).rows[0]?.v).toBe(2)
      expect((await c.query<{ v: number }>(three, [0])).rows[0]?.v).toBe(3)
      expect((await c.query<{ v: number }>(one, [41])).rows[0]?.v).toBe(42)
      expect(prepared).toEqual([one, two, three, one])
      // A failing statement rejects with the driver's error, and the connection goes back.
      await expect(c.query('SELECT * FROM sbt_maria_no_such_table')).rejects.toMatchObject({
        code: 'ER_NO_SUCH_TABLE',
      })
      await expect(c.query('SELECT ?', [undefined])).rejects.toBeInstanceOf(TypeError)
      expect((await c.query<{ v: number }>(two, [5])).rows[0]?.v).toBe(7)
    } finally {
      await small.end()
    }
  })

  it("runs a transaction's statements on the callback connection, commit and rollback included", async () => {
    const promised: string[] = []
    const watched = {
      execute: (sql: string, values?: never) => pool.execute(sql, values),
      pool: pool.pool,
      getConnection: async () => {
        const conn = await pool.getConnection()
        for (const method of ['execute', 'query', 'beginTransaction', 'commit', 'rollback'] as const) {
          const own = conn[method].bind(conn) as (...args: unknown[]) => unknown
          Object.defineProperty(conn, method, {
            value: (...args: unknown[]) => {
              promised.push(method)
              return own(...args)
            },
          })
        }
        return conn
      },
    }
    const backend = sqlBackend({ client: mysqlClient(watched), layout: 'native', table: 'sbt_maria_native' })
    const id = (await backend.create(backend.idFormat.generate(), record({ n: 1 })))!
    const options = { expiresAt: Date.now() + 60_000, userId: null, maxAttempts: 3 }
    expect((await backend.update!(id, 'n', (n) => (n as number) + 1, options))?.value).toBe(2)
    const failed = backend.update!(
      id,
      'n',
      () => {
        throw new Error('app failure')
      },
      options,
    )
    await expect(failed).rejects.toThrow('app failure')
    expect((await backend.load(id))?.data.n).toBe(2) // rolled back, and the connection went back
    expect(promised).toEqual([])
  })
})
