import { describe, expect, it } from 'vitest'
import { djangoCodec } from '../src/index.ts'

const KEY = 'cache-test-secret-key-0123456789'
const quiet = { warn: () => {} }

describe('djangoCodec decode cache', () => {
  it('returns a fresh copy each time, so a caller changing it cannot change the next read', async () => {
    const codec = djangoCodec({ secretKey: KEY, logger: quiet })
    const stored = await codec.encode({ cart: [1, 2], user: 'ann' })
    const first = await codec.decode(stored)
    ;(first!.cart as number[]).push(3)
    expect(await codec.decode(stored)).toEqual({ cart: [1, 2], user: 'ann' })
  })

  it('still refuses a tampered copy of a cached value, and a value signed with another key', async () => {
    const codec = djangoCodec({ secretKey: KEY, logger: quiet })
    const stored = await codec.encode({ a: 1 })
    expect(await codec.decode(stored)).toEqual({ a: 1 })
    const tampered = `${stored.slice(0, -2)}${stored.endsWith('AA') ? 'BB' : 'AA'}`
    expect(await codec.decode(tampered)).toBeNull()
    const foreign = await djangoCodec({ secretKey: 'another-secret-key-0123456789', logger: quiet }).encode({
      a: 1,
    })
    expect(await codec.decode(foreign)).toBeNull()
  })

  it('a codec without the old key refuses what a rotating codec had accepted', async () => {
    const old = await djangoCodec({ secretKey: 'old-secret-key-0123456789abc', logger: quiet }).encode({
      a: 1,
    })
    const rotating = djangoCodec({
      secretKey: KEY,
      djangoVersion: '4.2',
      fallbackKeys: ['old-secret-key-0123456789abc'],
      logger: quiet,
    })
    expect(await rotating.decode(old)).toEqual({ a: 1 })
    expect(await djangoCodec({ secretKey: KEY, logger: quiet }).decode(old)).toBeNull()
  })

  it('rejects a negative cache size at startup', () => {
    expect(() => djangoCodec({ secretKey: KEY, cacheSize: -1 })).toThrow(/option "cacheSize"/)
  })
})
