import { describe, expect, it } from 'vitest'
import { plainData } from '../src/codec-json.ts'
import { jsonText, plainJsonString } from '../src/json-text.ts'

const values: unknown[] = [
  0,
  -0,
  3,
  -7.5,
  1e21,
  1e-7,
  2 ** 53,
  1796565015623,
  Number.NaN,
  Infinity,
  -Infinity,
  true,
  false,
  null,
  undefined,
  '',
  'x',
  'ü ключ 😀',
  'a"b',
  'a\\b',
  'tab\there',
  '\u2028',
  '\u007f',
  '\ud800',
  'x\udc00',
  'y'.repeat(128),
  'y'.repeat(129),
  () => 1,
  Symbol('s'),
  [1, 2],
  new Date(0),
]

const objects: unknown[] = [
  {},
  { count: 3 },
  { b: 1, a: 2, 10: 'x', 2: 'y' },
  { '': 1 },
  { 'k"q': 1 },
  { 'k\n': 1 },
  { '\ud83d\ude00': 1 },
  { n: Number.NaN, t: true, z: null, s: 'text' },
  { u: undefined, v: 1 },
  { f: () => 1, v: 1 },
  { nested: { a: 1 } },
  { list: [1] },
  { long: 'y'.repeat(200) },
  { toJSON: () => 'own' },
  Object.assign(Object.create(null), { a: 1, __proto__: 2 }),
  plainData({ _auth_user_id: '42', _auth_user_hash: 'f'.repeat(64), count: 1 }),
  new (class Point {
    x = 1
  })(),
  [1, 'a'],
  new Map([[1, 2]]),
]

describe('jsonText', () => {
  it('writes what JSON.stringify writes, for primitives and values it hands over', () => {
    for (const value of values) expect(jsonText(value)).toBe(JSON.stringify(value))
  })

  it('writes what JSON.stringify writes, for flat objects and those it hands over', () => {
    for (const value of objects) expect(jsonText(value)).toBe(JSON.stringify(value))
    for (const value of values)
      expect(jsonText({ k: value, after: 1 })).toBe(JSON.stringify({ k: value, after: 1 }))
  })

  it('checks each key whatever plain keys were written at its place before', () => {
    const objects = [
      { count: 1, b: 2 },
      { 'coun"': 1, b: 2 },
      { count: 1, 'b\n': 2 },
      { count: 1, b: 2 },
    ]
    for (let round = 0; round < 2; round++)
      for (const value of objects) expect(jsonText(value)).toBe(JSON.stringify(value))
  })

  it('leaves out an inherited enumerable key, as JSON.stringify does', () => {
    const proto = Object.prototype as Record<string, unknown>
    proto.polluted = 1
    try {
      expect(jsonText({ a: 1 })).toBe('{"a":1}')
    } finally {
      delete proto.polluted
    }
  })

  it('honours a toJSON that is not the object’s own enumerable key', () => {
    const withToJson = Object.defineProperty({ a: 1 }, 'toJSON', { value: () => 'hidden', enumerable: false })
    expect(jsonText(withToJson)).toBe('"hidden"')
    const proto = Object.prototype as Record<string, unknown>
    Object.defineProperty(proto, 'toJSON', { value: () => 'inherited', configurable: true, writable: true })
    try {
      expect(jsonText({ a: 1 })).toBe('"inherited"')
    } finally {
      delete proto.toJSON
    }
  })

  it('takes as plain only text JSON writes unescaped', () => {
    expect(plainJsonString('count _x ü 😀'.replace('😀', 'z'))).toBe(true)
    for (const text of ['"', '\\', '\n', '\u0000', '\ud83d\ude00', '\udfff'])
      expect(plainJsonString(text)).toBe(false)
  })
})
