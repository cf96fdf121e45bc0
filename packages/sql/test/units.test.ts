import { jsonCodec, SessionConfigError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { djangoTime } from '../src/dialect.ts'
import {
  applyChanges,
  migrate,
  nativeTableDdl,
  type SqlClient,
  sqlBackend,
  sqlTicketStore,
  toDollarPlaceholders,
} from '../src/index.ts'

const fakeClient = (dialect: SqlClient['dialect']): SqlClient => ({
  dialect,
  query: async () => ({ rows: [], rowCount: 0 }),
  transaction: (fn) => fn(fakeClient(dialect)),
})

describe('? to $n rewriting', () => {
  it('numbers placeholders outside literals, identifiers, dollar quotes and comments', () => {
    expect(toDollarPlaceholders('SELECT ? , ?')).toBe('SELECT $1 , $2')
    expect(toDollarPlaceholders(`SELECT '?', 'it''s ?', ?`)).toBe(`SELECT '?', 'it''s ?', $1`)
    expect(toDollarPlaceholders(`SELECT "we?ird" FROM t WHERE a = ?`)).toBe(
      `SELECT "we?ird" FROM t WHERE a = $1`,
    )
    expect(toDollarPlaceholders(`SELECT E'\\' ?', ?`)).toBe(`SELECT E'\\' ?', $1`)
    expect(toDollarPlaceholders('SELECT $$ ? $$, $tag$ ? $tag$, ?')).toBe('SELECT $$ ? $$, $tag$ ? $tag$, $1')
    expect(toDollarPlaceholders('SELECT ? -- why?\n, ? /* what? */, ?')).toBe(
      'SELECT $1 -- why?\n, $2 /* what? */, $3',
    )
    expect(toDollarPlaceholders('SELECT ?::text::jsonb')).toBe('SELECT $1::text::jsonb')
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

  it('names client, layout, codec, table, batchSize, idFormat, maxDataBytes', () => {
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
