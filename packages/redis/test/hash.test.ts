import { jsonCodec } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { hashCodec, NOT_PLAIN, oneKeyValue } from '../src/hash.ts'
import { redisContext } from '../src/io.ts'

const ctx = redisContext({
  commands: {} as never, // the codec makes no call
  prefix: 'unit:',
  codec: jsonCodec,
  userIndex: false,
  logger: console,
  now: Date.now,
})

describe('hashCodec with the JSON codec', () => {
  it('writes each field as JSON.stringify of a one-key object would', async () => {
    const values: Record<string, unknown> = {
      count: 3,
      name: 'zoë "q" \\ \u2028',
      nested: { a: [1, null, { b: true }] },
      when: new Date(Date.UTC(2026, 11, 3)),
      'we"ird\nkey': 'x',
      nothing: null,
      fn: () => 1,
    }
    const fields = await hashCodec(ctx).encodeFields(values)
    const keys = Object.keys(values)
    expect(fields).toHaveLength(keys.length * 2)
    keys.forEach((key, i) => {
      expect(fields[2 * i]).toBe(`d:${key}`)
      expect(fields[2 * i + 1]).toBe(JSON.stringify({ [key]: values[key] }))
    })
  })

  it('reads a key named __proto__ back as plain data', () => {
    const flat = [
      'm:exp',
      String(Date.now() + 60_000),
      'm:uid',
      '-',
      'd:__proto__',
      '{"__proto__":{"isAdmin":true}}',
    ]
    const record = hashCodec(ctx).decodeHash('a'.repeat(32), flat) as { data: Record<string, unknown> }
    expect(record.data.isAdmin).toBeUndefined()
    expect(Object.getOwnPropertyDescriptor(record.data, '__proto__')?.value).toEqual({ isAdmin: true })
  })
})

describe('the stored expiry', () => {
  it('gives up on a field that is not an expiry: no session', () => {
    const flat = ['m:exp', '1e99', 'm:uid', '-', 'd:count', '{"count":1}']
    expect(hashCodec(ctx).decodeHash('a'.repeat(32), flat)).toBeNull()
  })

  it('keeps the raw fields only when asked', () => {
    const flat = ['m:exp', String(Date.now() + 60_000), 'm:uid', '-', 'd:count', '{"count":1}']
    const codec = hashCodec(ctx)
    const kept = codec.decodeHash('a'.repeat(32), flat) as { raw: ReadonlyMap<string, string> }
    const loaded = codec.decodeHash('a'.repeat(32), flat, false) as { raw: ReadonlyMap<string, string> }
    expect([...kept.raw]).toEqual([['count', '{"count":1}']])
    expect(loaded.raw.size).toBe(0)
  })
})

describe('oneKeyValue', () => {
  const keys = ['count', '_sb_created', '__proto__', 'zoë', '', 'a b', 'we"ird', 'back\\slash', 'new\nline']
  keys.push('\u2028', '😀', '\ud800', 'a":5,"b')
  const values: unknown[] = [0, 7, 41, 1796424612, 999999999999999, 1234567890123456, -3, 1.5, 1e21, 0.1]
  values.push(
    Number('12345678901234567890'),
    '',
    'text',
    'q"u\\o',
    '\u2028',
    null,
    true,
    false,
    [],
    [1, [2]],
    {},
    { a: { b: 1 } },
  )

  it('answers JSON.parse(text)[key] for every field jsonField writes, without parsing it whole when the key is plain', () => {
    for (const key of keys) {
      for (const value of values) {
        const text = JSON.stringify({ [key]: value })
        const answer = oneKeyValue(text, key)
        // JSON writes these keys as they are; a surrogate is left to the whole parse too.
        const plain = JSON.stringify(key) === `"${key}"` && !/[\ud800-\udfff]/.test(key)
        if (plain) expect([key, text, answer]).toEqual([key, text, JSON.parse(text)[key]])
        else expect([key, text, answer]).toEqual([key, text, NOT_PLAIN])
      }
    }
  })

  it('leaves every other text to the whole parse', () => {
    const others: [string, string][] = [
      ['{"a":1,"a":2}', 'a":1,"a'], // a forged field name that spells another object's keys
      ['{"a":5,"b":1}', 'a":5,"b'],
      ['{"a":1,"b":2}', 'a'],
      ['{"a" :1}', 'a'],
      ['{"\\u0061":1}', 'a'],
      ['{"a":1} ', 'a'],
      ['{"a":}', 'a'],
      ['{"a":1', 'a'],
      ['{"ab":1}', 'a'],
      ['{"a":01}', 'a'],
      ['{"a":12a}', 'a'],
      ['[1]', 'a'],
      ['', 'a'],
    ]
    for (const [text, key] of others) expect([text, oneKeyValue(text, key)]).toEqual([text, NOT_PLAIN])
  })

  it('reads the same records as the whole parse, foreign spellings included', () => {
    const codec = hashCodec(ctx)
    const expiry = String(Date.now() + 60_000)
    const flat = [
      'm:exp',
      expiry,
      'm:uid',
      '+7',
      'd:n',
      '{"n":12}',
      'd:s',
      '{ "s" : "x" }',
      'd:o',
      '{"o":{"p":[1]}}',
    ]
    flat.push('d:gone', '{"other":1}')
    const record = codec.decodeHash('a'.repeat(32), flat) as { data: Record<string, unknown>; userId: string }
    expect({ ...record.data }).toEqual({ n: 12, s: 'x', o: { p: [1] } })
    expect(record.userId).toBe('7')
  })
})
