import { describe, expect, it } from 'vitest'
import { utf8Length, utf8Overflow } from '../src/utf8-length.ts'

const encoded = (text: string) => new TextEncoder().encode(text).length

describe('utf8Length', () => {
  it('counts what TextEncoder writes: 1 - 3 bytes a unit, 4 a surrogate pair, 3 a lone surrogate', () => {
    const texts = [
      '',
      'ascii {"count":3}',
      'é', // 2
      'ࠀ€￿', // 3 each
      '😀', // a pair: 4
      '\ud83d', // a lone high surrogate at the end
      '\ud83dx', // a lone high surrogate before another unit
      '\ude00', // a lone low surrogate
      '\ude00\ud83d', // reversed: two lone surrogates
      `a${'😀'.repeat(3)}é\u0000\u007f\u0080\u07ff\u0800`,
    ]
    for (const text of texts) expect([text, utf8Length(text)]).toEqual([text, encoded(text)])
  })

  it('agrees with TextEncoder on random texts over the whole UTF-16 range', () => {
    let seed = 7
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    for (let n = 0; n < 500; n++) {
      const units = Array.from({ length: Math.floor(random() * 40) }, () =>
        random() < 0.5 ? Math.floor(random() * 0x80) : Math.floor(random() * 0x10000),
      )
      const text = String.fromCharCode(...units)
      expect(utf8Length(text)).toBe(encoded(text))
    }
  })
})

describe('utf8Overflow', () => {
  it('answers null for what fits, the byte count for what does not', () => {
    expect(utf8Overflow('abc', 9)).toBeNull() // 3 units: 9 bytes at most, never counted
    expect(utf8Overflow('abcd', 4)).toBeNull() // counted: 4 bytes
    expect(utf8Overflow('abcd', 3)).toBe(4)
    expect(utf8Overflow('éé', 4)).toBeNull()
    expect(utf8Overflow('éé', 3)).toBe(4)
    expect(utf8Overflow('😀', 4)).toBeNull()
    expect(utf8Overflow('😀', 3)).toBe(4)
    expect(utf8Overflow('€€€', 8)).toBe(9)
  })
})
