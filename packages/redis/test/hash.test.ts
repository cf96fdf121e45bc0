import { jsonCodec } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { hashCodec } from '../src/hash.ts'
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
