import { describe, expect, it } from 'vitest'
import { countDigits, msText, wholeNumber } from '../src/digits.ts'

describe('wholeNumber', () => {
  it('reads what Number reads, for stored expiries and for anything else', () => {
    const texts = [
      '1797634212535',
      '0',
      '007',
      '999999999999999',
      '1234567890123456',
      '9007199254740993',
      '12345678901234567890',
    ]
    texts.push('', ' 12', '12 ', '+5', '-5', '1e3', '0x10', '1.5', '12a', 'Infinity', '١٢')
    for (const text of texts) expect([text, wholeNumber(text)]).toEqual([text, Number(text)])
  })
})

describe('countDigits', () => {
  it('counts a span of digits, NaN for an empty span, more than 15 digits or any other character', () => {
    expect(countDigits('x1797634212535,', 1, 14)).toBe(1797634212535)
    expect(countDigits('0', 0, 1)).toBe(0)
    expect(countDigits('12', 1, 1)).toSatisfy(Number.isNaN)
    expect(countDigits('1234567890123456', 0, 16)).toSatisfy(Number.isNaN)
    expect(countDigits('12a', 0, 3)).toSatisfy(Number.isNaN)
    expect(countDigits('1-2', 0, 3)).toSatisfy(Number.isNaN)
  })
})

describe('msText', () => {
  it('writes what String writes, for epoch times and anything else', () => {
    const values = [1797634212535, 1797634000000, 1797634000007, 1797634099999, 1797634100000, 1e9, 1e15 - 1]
    values.push(0, 5, -5, 999_999_999, 1e15, 2 ** 53 + 2, 1.5, -1797634212535, Number.NaN, Infinity)
    // Random whole times across the span the parts cover, low parts with every count of zeros.
    let seed = 7
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      const high = 1000 + (seed % 999_000_000)
      values.push(high * 1e6 + (seed % 10 ** (i % 7)))
    }
    for (const ms of values) expect([ms, msText(ms)]).toEqual([ms, String(ms)])
  })
})
