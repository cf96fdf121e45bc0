import { describe, expect, it } from 'vitest'
import { isPlainDataObject } from '../src/codec-json.ts'
import { parseJson } from '../src/json-parse.ts'

// Read here (flat objects of primitives in the forms JSON.stringify, jsonb and MySQL write).
const flat = [
  '{}',
  '{"count":3}',
  '{"count": 3}',
  '{"a":1, "b":"x"}',
  '{"n":-7,"z":0,"m":-0}',
  '{"t":true,"f":false,"u":null}',
  '{"":""}',
  '{"s":"ü ключ 😀 \u2028"}',
  '{"lone":"\ud800"}',
  '{"b":1,"a":2,"10":3,"2":4}',
  '{"a":1,"a":2,"b":3}',
  '{"__proto__":{"x":1}}'.replace('{"x":1}', '1'),
  '{"big":999999999999999}',
  '{"_auth_user_id":"42","_auth_user_hash":"ab"}',
]
// JSON.parse's (nested, escaped, fractions, exponents, long numbers, other spacing), or not JSON at all.
const others = [
  '{"a":{"b":1}}',
  '{"a":[1]}',
  '{"a":"q\\"q"}',
  '{"a\\n":1}',
  '{"a":1.5}',
  '{"a":1e3}',
  '{"a":1E-2}',
  '{"a":1234567890123456}',
  '{ "a":1}',
  '{"a":1 }',
  '{"a" :1}',
  '{"a":1,  "b":2}',
  '{"a":1,\n"b":2}',
  '[1]',
  '"x"',
  '3',
  'null',
  'true',
]
const invalid = [
  '',
  '{',
  '}',
  '{"a"}',
  '{"a":}',
  '{"a":1,}',
  '{"a":01}',
  '{"a":-}',
  '{"a":tru}',
  '{"a":truex}',
  // A literal's four or five letters reaching the closing brace: checked letter by letter.
  '{"a":trux}',
  '{"a":fals1}',
  '{"a":nul0}',
  '{"a":"x}',
  '{"a":1}}',
  '{a:1}',
  "{'a':1}",
  '{"a":"tab\there"}',
  '{"a":-01}',
  '{"a":00}',
  '{"a":+1}',
  '{"a":1}x',
]

describe('parseJson', () => {
  it('reads flat objects as JSON.parse does, into plainData objects', () => {
    for (const text of flat) {
      const value = parseJson(text) as Record<string, unknown>
      expect(isPlainDataObject(value), text).toBe(true)
      const expected = JSON.parse(text) as Record<string, unknown>
      expect(Object.keys(value), text).toEqual(Object.keys(expected))
      for (const key of Object.keys(expected))
        expect(Object.is(value[key], expected[key]), `${text} ${key}`).toBe(true)
    }
    const proto = parseJson('{"__proto__":1}') as Record<string, unknown>
    expect(Object.hasOwn(proto, '__proto__')).toBe(true)
  })

  it('reads a span of a text as JSON.parse reads that span alone', () => {
    for (const text of [...flat, ...others]) {
      const around = `1234 -${text}]x`
      const value = parseJson(around, 6, 6 + text.length)
      expect(JSON.stringify(value), text).toBe(JSON.stringify(JSON.parse(text)))
    }
    // A string may not run past the span's end, though a quote follows it.
    expect(() => parseJson('{"a":"x}"}', 0, 8)).toThrow(SyntaxError)
    expect(() => parseJson('{"a}":1}', 0, 4)).toThrow(SyntaxError)
  })

  it('takes each key as written, whatever keys came at its place before', () => {
    const texts = [
      '{"count":1,"b":2}',
      '{"counter":1,"b":2}',
      // The same length at the same place: told apart by the characters alone.
      '{"cOunt":1,"c":2}',
      '{"count":1,"b":2}',
      '{"coun":1,"bb":2}',
      '{"count":1,"b":2}',
      '{"b":1,"count":2}',
    ]
    for (let round = 0; round < 2; round++) {
      for (const text of texts)
        expect(Object.entries(parseJson(text) as object), text).toEqual(Object.entries(JSON.parse(text)))
    }
    expect(Object.keys(parseJson('{"count":1}') as object)).toEqual(['count'])
    // A key seen before is matched within the span only.
    expect(() => parseJson('{"count":1}', 0, 7)).toThrow(SyntaxError)
  })

  it('hands anything else to JSON.parse: the same value, or the same error', () => {
    for (const text of others) {
      expect(parseJson(text), text).toEqual(JSON.parse(text))
      expect(isPlainDataObject(parseJson(text)), text).toBe(false)
    }
    for (const text of invalid) expect(() => parseJson(text), text).toThrow(SyntaxError)
  })
})
