import { jsonCodec, SessionConfigError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { nativeRow } from '../src/data.ts'
import { djangoTime } from '../src/dialect.ts'
import {
  applyChanges,
  migrate,
  nativeTableDdl,
  type SqlClient,
  sqlAttemptStore,
  sqlBackend,
  sqlTicketStore,
} from '../src/index.ts'
import { userTableStatements } from '../src/user-table.ts'

const fakeClient = (dialect: SqlClient['dialect']): SqlClient => ({
  dialect,
  query: async () => ({ rows: [], rowCount: 0 }),
  transaction: (fn) => fn(fakeClient(dialect)),
})

/** A client that answers nothing and keeps every statement it was sent, with its parameters. */
const recordingClient = (dialect: SqlClient['dialect'], sent: [string, readonly unknown[]][]): SqlClient => ({
  dialect,
  query: async (sql, params = []) => {
    sent.push([sql, params])
    return { rows: [], rowCount: 0 }
  },
  transaction: (fn) => fn(recordingClient(dialect, sent)),
})

describe('native placeholders', () => {
  it.each(['postgres', 'mysql', 'sqlite'] as const)(
    '%s: every statement binds its parameters in its own syntax, one placeholder per value',
    async (dialect) => {
      const sent: [string, readonly unknown[]][] = []
      const client = recordingClient(dialect, sent)
      const tickets = sqlTicketStore({ client, sweepEvery: 1 })
      await tickets.migrate()
      await tickets.issue({ userId: 'u', username: 'u' }, 1000)
      await tickets.consume('A'.repeat(32))
      await tickets.revokeUser('u')
      await tickets.clearExpired()
      const attempts = sqlAttemptStore({ client, sweepEvery: 1 })
      await expect(attempts.hit('k', 1000)).rejects.toThrow() // the fake returns no counter
      await attempts.undo('k')
      await attempts.reset('k')
      await attempts.clearExpired()
      const backend = sqlBackend({ client, layout: 'native' })
      await backend.load('a'.repeat(32))
      await backend.touch('a'.repeat(32), Date.now() + 1000)
      await backend.destroy('a'.repeat(32))
      await backend.clearExpired()
      expect(sent.length).toBeGreaterThan(12)
      for (const [sql, params] of sent) {
        const dollars = sql.match(/\$\d+/g) ?? []
        const marks = sql.match(/\?/g) ?? []
        if (dialect === 'postgres') {
          expect(marks, sql).toEqual([])
          expect(dollars, sql).toEqual(params.map((_, i) => `$${i + 1}`))
        } else {
          expect(dollars, sql).toEqual([])
          expect(marks.length, sql).toBe(params.length)
        }
      }
    },
  )

  it('numbers the Django user table statements per dialect', () => {
    const pg = userTableStatements('postgres', '"s"', '"u"')
    expect(pg.upsert).toContain('VALUES ($1, $2)')
    expect(pg.list).toMatch(/user_id = \$1 AND s\.expire_date > \$2$/)
    const my = userTableStatements('mysql', '`s`', '`u`')
    expect(my.upsert).toContain('VALUES (?, ?)')
    expect(my.list).toMatch(/user_id = \? AND s\.expire_date > \?$/)
  })
})

describe("nativeRow: the native load's one column read apart", () => {
  // The row with its JSON cut out where `jsonStart` says (the backend reads it in place).
  const readRow = (loaded: unknown, versioned: boolean) => {
    const row = nativeRow(loaded, versioned)
    if (row === null) return null
    const { jsonStart, ...rest } = row
    return { ...rest, json: (loaded as string).slice(jsonStart) }
  }
  it('reads <expires_at> <user><data>: a user as its length in code points and its text, or -', () => {
    expect(readRow('1796544280116 -{"a":1}', false)).toEqual({
      expiresAt: 1796544280116,
      version: undefined,
      userId: null,
      json: '{"a":1}',
    })
    expect(readRow('1796544280116 2 u1{"a":1}', false)).toMatchObject({ userId: 'u1', json: '{"a":1}' })
    // Spaces, digits, a dash and JSON in a user id; a surrogate pair is one code point, as databases count.
    expect(readRow('5 8 a -1{"}😀{"b": "c d"}', false)).toMatchObject({
      expiresAt: 5,
      userId: 'a -1{"}😀',
      json: '{"b": "c d"}',
    })
    expect(readRow('5 0 {}', false)).toMatchObject({ userId: '', json: '{}' })
    expect(readRow('12345678901234567 -{}', false)?.expiresAt).toBe(12345678901234568) // Number()'s rounding
    expect(readRow('-5 -{}', false)?.expiresAt).toBe(-5)
    expect(readRow('1e3 -{}', false)?.expiresAt).toBe(1000)
    expect(readRow('12a -{}', false)?.expiresAt).toSatisfy(Number.isNaN) // the backend: undecodable
  })
  it('reads <expires_at> <version> <user><data> when versioned (SQLite, D1): the token is the version and the user', () => {
    expect(readRow('1796544280116 42 3 abc{"a":1}', true)).toEqual({
      expiresAt: 1796544280116,
      version: '42 3 abc',
      userId: 'abc',
      json: '{"a":1}',
    })
    expect(readRow('5 7 -{"a": "b c"}', true)).toEqual({
      expiresAt: 5,
      version: '7 -',
      userId: null,
      json: '{"a": "b c"}',
    })
    expect(readRow('5 7 1 -{}', true)).toMatchObject({ version: '7 1 -', userId: '-' })
  })
  it('answers null for what the load never selects', () => {
    for (const bad of ['', ' -{}', '1796544280116', '1 x {}', '1 9 short', '1 {}', null, undefined, 5, {}]) {
      expect(nativeRow(bad, false)).toBeNull()
    }
    expect(nativeRow('1796544280116 -{}', true)).toBeNull() // no version
    expect(nativeRow('1796544280116  -{}', true)).toBeNull() // an empty one
  })
})

describe('datetimes', () => {
  it("writes Django's forms through core's one date module, reading MySQL's as text", () => {
    const whole = Date.UTC(2026, 0, 2, 3, 4, 5)
    expect(djangoTime('mysql').toDb(whole)).toBe('2026-01-02 03:04:05') // as Django: no zero fraction
    expect(djangoTime('sqlite').toDb(whole + 60)).toBe('2026-01-02 03:04:05.060000')
    expect(djangoTime('postgres').toDb(whole)).toBe('2026-01-02T03:04:05.000Z')
    expect(djangoTime('mysql').column).toBe('CAST(expire_date AS CHAR)')
  })
})

describe('change sets', () => {
  it('applies deletions and sets without touching the input, keeping __proto__ as data', () => {
    const stored = { a: 1, b: 2 }
    const merged = applyChanges(stored, {
      set: JSON.parse('{"__proto__": {"polluted": true}, "c": 3}'),
      deleted: ['b'],
    })
    expect(stored).toEqual({ a: 1, b: 2 })
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype)
    expect(JSON.parse(JSON.stringify(merged))).toEqual(
      JSON.parse('{"a":1,"__proto__":{"polluted":true},"c":3}'),
    )
  })
})

describe('misconfiguration fails at startup, naming the option', () => {
  const expectConfig = (fn: () => unknown, option: string, message: RegExp) => {
    let error: unknown
    try {
      fn()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(SessionConfigError)
    expect((error as SessionConfigError).option).toBe(option)
    expect((error as Error).message).toMatch(message)
  }

  it('names client, layout, codec, table, batchSize, expiryStep, idFormat, maxDataBytes', () => {
    const client = fakeClient('postgres')
    // @ts-expect-error: no options at all
    expectConfig(() => sqlBackend(undefined), 'client', /^\[sessionbridge\/sql\] missing option "client"/)
    // @ts-expect-error: layout is required
    expectConfig(() => sqlBackend({ client }), 'layout', /missing option "layout"/)
    // @ts-expect-error: not a layout
    expectConfig(() => sqlBackend({ client, layout: 'mongo' }), 'layout', /"native" or "django"/)
    expectConfig(() => sqlBackend({ client, layout: 'django' }), 'codec', /djangoCodec/)
    expectConfig(
      () => sqlBackend({ client, layout: 'native', table: 'x; DROP TABLE y' }),
      'table',
      /letters, digits/,
    )
    expectConfig(() => sqlBackend({ client, layout: 'native', table: 'a.b.c' }), 'table', /schema\.name/)
    expectConfig(() => sqlBackend({ client, layout: 'native', batchSize: 0 }), 'batchSize', /whole number/)
    expectConfig(() => sqlBackend({ client, layout: 'native', expiryStep: -1 }), 'expiryStep', /whole number/)
    expectConfig(
      () => sqlBackend({ client, layout: 'native', expiryStep: 0.5 }),
      'expiryStep',
      /whole number/,
    )
    expectConfig(
      () => sqlBackend({ client, layout: 'native', maxDataBytes: 1.5 }),
      'maxDataBytes',
      /whole number/,
    )
    expectConfig(
      () =>
        sqlBackend({
          client,
          layout: 'django',
          codec: jsonCodec,
          idFormat: { generate: () => 'a'.repeat(41), validate: () => true },
        }),
      'idFormat',
      /40 characters/,
    )
    const oracle = { ...client, dialect: 'oracle' } as unknown as SqlClient
    expectConfig(() => sqlBackend({ client: oracle, layout: 'native' }), 'client', /dialect/)
    expectConfig(() => sqlTicketStore({ client, sweepEvery: 0 }), 'sweepEvery', /positive/)
    expect(sqlBackend({ client, layout: 'native', table: 'auth.sessions' }).layout).toBe('native')
  })

  it('migrate() rejects the django layout and quotes names per dialect', async () => {
    await expect(migrate(fakeClient('sqlite'), { layout: 'django' })).rejects.toThrow(
      /never creates Django's table/,
    )
    expect(nativeTableDdl('mysql', 's.t')[0]).toContain('`s`.`t`')
    expect(nativeTableDdl('postgres', 's.t')[0]).toContain('"s"."t"')
  })
})
