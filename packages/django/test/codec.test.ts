import { describe, expect, it } from 'vitest'
import {
  base62Decode,
  base62Encode,
  djangoCodec,
  djangoExpiry,
  parseDjangoExpiry,
  pythonFloatRepr,
  pythonJsonDumps,
  pythonJsonLoads,
} from '../src/index.ts'

describe('base62 and Python JSON (no Django needed)', () => {
  it('encodes timestamps as Django does', () => {
    expect(base62Encode(1_700_000_000)).toBe('1r31eq')
    expect(base62Decode('1r31eq')).toBe(1_700_000_000)
    expect(base62Decode('1r3!eq')).toBeNull()
  })
  it('reads what Python writes, including NaN/Infinity and big integers', () => {
    expect(pythonJsonLoads('{"a":[NaN,Infinity,-Infinity],"b":9007199254740993}')).toEqual({
      a: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      b: 9007199254740993n,
    })
    expect(pythonJsonDumps({ b: 9007199254740993n, c: Number.NaN })).toBe('{"b":9007199254740993,"c":NaN}')
    const parsed = pythonJsonLoads('{"__proto__":{"x":1}}') as Record<string, unknown>
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(Object.keys(parsed)).toEqual(['__proto__'])
    expect(() => pythonJsonLoads('{"a":1} x')).toThrow(SyntaxError)
  })
  it('answers as Python wherever the fast JSON.parse path could differ', () => {
    expect(pythonJsonLoads('[9007199254740991, -9007199254740993, 0.12345678901234567]')).toEqual([
      9007199254740991,
      -9007199254740993n,
      Number('0.12345678901234567'),
    ])
    expect(pythonJsonLoads('{"n":"12345678901234567890","z":-0}')).toEqual({
      n: '12345678901234567890',
      z: -0,
    })
    expect(Object.is((pythonJsonLoads('{"z":-0}') as { z: number }).z, -0)).toBe(true)
    // 513 levels nest too deep for Python's parser here; JSON.parse alone would accept them.
    expect(() => pythonJsonLoads(`${'['.repeat(514)}${']'.repeat(514)}`)).toThrow(/too deep/)
    expect(pythonJsonLoads(`${'['.repeat(100)}${']'.repeat(100)}`)).toHaveLength(1)
    for (const bad of ['{"a":1,}', '[1] [2]', '"\u0001"', "{'a':1}", '', '01'])
      expect(() => pythonJsonLoads(bad), bad).toThrow(SyntaxError)
    expect(pythonJsonLoads('{"a":[1,2],"a":3}')).toEqual({ a: 3 })
  })
  it('writes floats with Python repr rules', () => {
    expect(pythonFloatRepr(1e-7)).toBe('1e-07')
    expect(pythonFloatRepr(1.5e100)).toBe('1.5e+100')
    expect(pythonFloatRepr(0.0001)).toBe('0.0001')
    expect(pythonJsonDumps([1, 1e21, -0, 0.5, 2 ** 53])).toBe('[1,1e+21,0,0.5,9007199254740992.0]')
  })
})

describe('the Django version options of the codec (no Django needed)', () => {
  it('refuses fallback keys for a Django without SECRET_KEY_FALLBACKS, naming the option', () => {
    expect(() => djangoCodec({ secretKey: 'k', fallbackKeys: ['old'] })).toThrow(
      '[sessionbridge/django] option "fallbackKeys" needs Django 4.1+ (SECRET_KEY_FALLBACKS); djangoVersion is "3.2"',
    )
    expect(() => djangoCodec({ secretKey: 'k', djangoVersion: '4.1', fallbackKeys: ['old'] })).not.toThrow()
    expect(() => djangoCodec({ secretKey: 'k', djangoVersion: '2.2' as never })).toThrow(
      /option "djangoVersion"/,
    )
  })

  it('writes and reads _session_expiry datetimes as Python isoformat()', () => {
    expect(djangoExpiry(new Date(Date.UTC(2030, 2, 17, 17, 46, 40, 500)))).toBe(
      '2030-03-17T17:46:40.500000+00:00',
    )
    expect(djangoExpiry(new Date(Date.UTC(2030, 2, 17, 17, 46, 40)))).toBe('2030-03-17T17:46:40+00:00')
    expect(parseDjangoExpiry('2030-03-17T17:46:40.500000+00:00')).toBe(Date.UTC(2030, 2, 17, 17, 46, 40, 500))
    expect(parseDjangoExpiry('2030-03-17T19:46:40+02:00')).toBe(Date.UTC(2030, 2, 17, 17, 46, 40))
    expect(parseDjangoExpiry('2030-03-17 17:46:40')).toBe(Date.UTC(2030, 2, 17, 17, 46, 40))
    for (const bad of ['', 'tomorrow', '2030-13-45T99:00:00', '1209600'])
      expect(parseDjangoExpiry(bad)).toBeNull()
    expect(() => djangoExpiry(new Date(Number.NaN))).toThrow(RangeError)
  })
})
