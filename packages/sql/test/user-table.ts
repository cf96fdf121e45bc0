import { createSessionManager, SessionConfigError } from '@sessionbridge/core'
import { sqlStatement } from '@sessionbridge/core/adapter'
import { testBackend } from '@sessionbridge/core/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  djangoTableDdl,
  migrateUserTable,
  type SqlBackendOptions,
  type SqlClient,
  sqlBackend,
  userTableDdl,
} from '../src/index.ts'
import { base64JsonCodec, HOUR, record, type SqlSuiteOptions } from './suite.ts'

/** Counts every statement, inside transactions too (a transaction's BEGIN and COMMIT count 2). */
export function statementCounter(client: SqlClient) {
  let count = 0
  // The texts of the statements the last `take` ran (where they ran: `query`, `queryRow`, at once).
  const texts: string[] = []
  const wrap = (c: SqlClient): SqlClient => {
    const wrapped: SqlClient = {
      dialect: c.dialect,
      query: (sql, params) => {
        count++
        texts.push(sql)
        return c.query(sql, params)
      },
      transaction: (fn) => {
        count += 2
        return c.transaction((tx) => fn(wrap(tx)))
      },
    }
    if (c.queryRow) {
      wrapped.queryRow = (sql, params) => {
        count++
        texts.push(sql)
        return c.queryRow!(sql, params)
      }
    }
    // Counted when they ran (`null`: the statement goes to `query`/`queryRow`, counted there).
    if (c.queryAtOnce) {
      wrapped.queryAtOnce = <Row>(sql: string, params?: readonly unknown[]) => {
        const result = c.queryAtOnce!<Row>(sql, params)
        if (result !== null) {
          count++
          texts.push(sql)
        }
        return result
      }
    }
    if (c.queryRowAtOnce) {
      wrapped.queryRowAtOnce = (sql, params) => {
        const row = c.queryRowAtOnce!(sql, params)
        if (row !== null) {
          count++
          texts.push(sql)
        }
        return row
      }
    }
    return wrapped
  }
  const take = async (fn: () => Promise<unknown>) => {
    count = 0
    texts.length = 0
    await fn()
    return count
  }
  return { client: wrap(client), take, texts }
}

/** The Django layout with its user table: conformance, cost per request, and the manager's view. */
export function userTableSuite(suite: SqlSuiteOptions): void {
  const sessions = `sbt_${suite.prefix}_django_u`
  const users = `sbt_${suite.prefix}_django_users`
  const q = (build: (p: () => string) => string) => sqlStatement(suite.client().dialect, build)
  const make = (extra: Partial<SqlBackendOptions> = {}) =>
    sqlBackend({
      client: suite.client(),
      layout: 'django',
      table: sessions,
      codec: base64JsonCodec,
      userTable: users,
      ...extra,
    })

  beforeAll(async () => {
    const client = suite.client()
    for (const t of [sessions, users]) await client.query(`DROP TABLE IF EXISTS ${t}`)
    for (const statement of djangoTableDdl(client.dialect, sessions)) await client.query(statement)
    await migrateUserTable(client, users)
    await migrateUserTable(client, users) // idempotent
  })

  testBackend({
    name: `${suite.name}, django layout with a user table`,
    backend: () => make(),
    teardown: (b) => b.close?.() ?? Promise.resolve(),
    expiryResolutionMs: 250,
    concurrentWriters: 20,
    corrupt: async (_b, id) => {
      await suite.client().query(
        q((p) => `UPDATE ${sessions} SET session_data = ${p()} WHERE session_key = ${p()}`),
        ['%%%', id],
      )
    },
  })

  describe(`${suite.name}, django layout with a user table: log out everywhere`, () => {
    it('costs one statement per login and per logout, none on other requests (counted)', async () => {
      const counter = statementCounter(suite.client())
      const b = make({ client: counter.client })
      const plain = statementCounter(suite.client())
      const without = make({ client: plain.client, userTable: null })
      const user = `u-${Date.now()}`
      const id = b.idFormat.generate()
      expect(await counter.take(() => b.create(id, record({}, HOUR, user)))).toBe(2)
      expect(await plain.take(() => without.create(b.idFormat.generate(), record({}, HOUR, user)))).toBe(1)
      expect(await counter.take(() => b.create(b.idFormat.generate(), record({})))).toBe(1) // anonymous
      expect(await counter.take(() => b.load(id))).toBe(1)
      expect(await counter.take(() => b.touch(id, Date.now() + HOUR))).toBe(1)
      // A save that keeps the user: BEGIN, locked read, write, COMMIT, as without the table.
      expect(
        await counter.take(() => b.save(id, { set: { n: 1 }, deleted: [] }, record({ n: 1 }, HOUR, user))),
      ).toBe(4)
      // A save that changes the user writes its row in the same transaction.
      const other = `${user}-b`
      const change = { set: { _auth_user_id: other }, deleted: [] }
      expect(await counter.take(() => b.save(id, change, record({}, HOUR, other)))).toBe(5)
      expect(await b.listUser!(user)).toEqual([])
      expect(await b.listUser!(other)).toEqual([id])
      expect(await counter.take(() => b.destroy(id))).toBe(2)
      expect(await b.listUser!(other)).toEqual([])
    })

    it('logs a user out everywhere through the manager, and leaves other users alone', async () => {
      const b = make()
      const manager = createSessionManager({ backend: b, logger: { warn: () => {} } })
      const user = `m-${Date.now()}`
      const login = async (who: string) => {
        const session = await manager.open({ cookie: null, protocol: 'https' })
        session.set('_auth_user_id', who)
        session.regenerate()
        return (await session.commit()).setCookie!.split(';')[0]!
      }
      const cookies = [await login(user), await login(user), await login(user)]
      const bystander = await login(`${user}-other`)
      expect(await b.listUser!(user)).toHaveLength(3)
      expect(await b.destroyUser!(user)).toBe(3)
      for (const cookie of cookies) {
        expect(await (await manager.open({ cookie, protocol: 'https' })).get('_auth_user_id')).toBeUndefined()
      }
      const still = await manager.open({ cookie: bystander, protocol: 'https' })
      expect(await still.get('_auth_user_id')).toBe(`${user}-other`)
      const { rows } = await suite.client().query(
        q((p) => `SELECT 1 AS x FROM ${users} WHERE user_id = ${p()}`),
        [user],
      )
      expect(rows).toHaveLength(0)
    })

    it('clearExpired also forgets the rows of sessions that are gone', async () => {
      const b = make()
      const user = `c-${Date.now()}`
      const id = (await b.create(b.idFormat.generate(), record({}, HOUR, user)))!
      await suite.client().query(
        q((p) => `DELETE FROM ${sessions} WHERE session_key = ${p()}`),
        [id],
      ) // as Django's logout does
      await b.clearExpired()
      const { rows } = await suite.client().query(
        q((p) => `SELECT 1 AS x FROM ${users} WHERE session_key = ${p()}`),
        [id],
      )
      expect(rows).toHaveLength(0)
    })

    it('refuses a user table for the native layout, and a bad table name', () => {
      const client = suite.client()
      expect(() => sqlBackend({ client, layout: 'native', userTable: users })).toThrow(SessionConfigError)
      expect(() => make({ userTable: 'x; DROP TABLE y' })).toThrow(SessionConfigError)
      expect(() => userTableDdl(client.dialect, 'a b')).toThrow(SessionConfigError)
    })
  })
}
