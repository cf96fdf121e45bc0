import { describe, expect, it } from 'vitest'
import { base64UrlDecode, base64UrlEncode, randomToken } from '../src/adapter.ts'
import { cookieSafeIds } from '../src/ids.ts'
import { alnum64IdFormat, alphabetIdFormat, djangoIdFormat } from '../src/index.ts'

describe('ids', () => {
  it('Django format: 32 x [a-z0-9], unique, validated', () => {
    const ids = Array.from({ length: 2000 }, () => djangoIdFormat.generate())
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{32}$/)
    expect(new Set(ids).size).toBe(ids.length)
    expect(djangoIdFormat.validate(ids[0]!)).toBe(true)
    expect(djangoIdFormat.validate(ids[0]!.toUpperCase())).toBe(false)
  })

  it('draws every character of the alphabet roughly uniformly (no modulo bias)', () => {
    const counts = new Map<string, number>()
    for (let i = 0; i < 2000; i++)
      for (const ch of alnum64IdFormat.generate()) counts.set(ch, (counts.get(ch) ?? 0) + 1)
    expect(counts.size).toBe(62)
    const expected = (2000 * 64) / 62
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.15)
  })

  it('validates by alphabet and length, for Latin-1 and wider alphabets alike', () => {
    const id = 'a'.repeat(31)
    for (const bad of [`${id}-`, `${id}\u0161`, `${id}\u0100`, id, `${id}aa`, `${id}\u{1F600}`])
      expect(djangoIdFormat.validate(bad)).toBe(false)
    expect(djangoIdFormat.validate(`${id}9`)).toBe(true)
    // An alphabet beyond Latin-1 takes the Set path.
    const greek = alphabetIdFormat({ alphabet: 'αβγδεζηθικλμνξοπρστυφχψω', length: 30 })
    expect(greek.validate(greek.generate())).toBe(true)
    expect(greek.validate(`${'α'.repeat(29)}a`)).toBe(false)
  })

  it('answers the same for ids it remembers as valid, past what it remembers, per format', () => {
    const valid = Array.from({ length: 2500 }, () => djangoIdFormat.generate())
    const invalid = valid.map((id, i) => (i % 2 ? `${id.slice(1)}-` : id.toUpperCase()))
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < valid.length; i++) {
        expect(djangoIdFormat.validate(valid[i]!)).toBe(true)
        expect(djangoIdFormat.validate(invalid[i]!)).toBe(false)
      }
    }
    // What one format remembers says nothing to another of the same length.
    const lower = alphabetIdFormat({ alphabet: 'abcdefghijklmnop', length: 32 })
    const upper = alphabetIdFormat({ alphabet: 'ABCDEFGHIJKLMNOP', length: 32 })
    const id = lower.generate()
    expect(lower.validate(id)).toBe(true)
    expect(upper.validate(id)).toBe(false)
    expect(djangoIdFormat.validate(undefined as unknown as string)).toBe(false)
    // The id found valid last is known again, as the same text in another string too.
    const fresh = alphabetIdFormat({ alphabet: 'abcdefghijklmnop', length: 32 })
    for (const nothing of [null, undefined, ''])
      expect(fresh.validate(nothing as unknown as string)).toBe(false)
    const last = fresh.generate()
    expect(fresh.validate(last)).toBe(true)
    expect(fresh.validate(` ${last}`.slice(1))).toBe(true)
    expect(fresh.validate(`${last.slice(0, 31)}z`)).toBe(false)
  })

  it('knows which of its formats write ids a cookie carries unescaped', () => {
    expect(cookieSafeIds(djangoIdFormat)).toBe(true)
    expect(cookieSafeIds(alnum64IdFormat)).toBe(true)
    expect(cookieSafeIds(alphabetIdFormat({ alphabet: 'abcdefghijklmnop._~-', length: 32 }))).toBe(true)
    expect(cookieSafeIds(alphabetIdFormat({ alphabet: 'abcdefghijklmnop+/', length: 32 }))).toBe(false)
    expect(cookieSafeIds(alphabetIdFormat({ alphabet: 'abcdefghijklmnop ;', length: 32 }))).toBe(false)
    // An app's own format: nothing is known, each cookie is tested.
    expect(cookieSafeIds({ generate: djangoIdFormat.generate, validate: djangoIdFormat.validate })).toBe(
      false,
    )
  })

  it('refuses formats under 128 bits', () => {
    expect(() => alphabetIdFormat({ alphabet: 'abcdef', length: 20 })).toThrow(/at least 128/)
  })

  it('tokens carry 128+ bits and base64url round-trips', () => {
    expect(() => randomToken(8)).toThrow()
    const bytes = crypto.getRandomValues(new Uint8Array(33))
    expect(base64UrlDecode(base64UrlEncode(bytes))).toEqual(bytes)
    expect(base64UrlDecode('not base64!')).toBeNull()
    expect(base64UrlDecode('a')).toBeNull()
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{32}$/)
  })
})
