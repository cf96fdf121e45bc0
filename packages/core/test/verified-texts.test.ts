import { describe, expect, it } from 'vitest'
import { VerifiedTexts } from '../src/verified-texts.ts'

const signature = 'Qm9vdHN0cmFwLWZvci1hLXRlc3Qtc2lnbmF0dXJlLg'

describe('VerifiedTexts', () => {
  it('finds a text kept before, whatever string object carries it', () => {
    const texts = new VerifiedTexts<string>(100)
    const signed = `${'a'.repeat(32)}.${signature}`
    texts.set(signed, 'a')
    // A slice of a header, as a request's cookie arrives: another string object, equal text.
    const header = `other=1; sessionid=${signed}; more=2`
    expect(texts.get(header.slice(header.indexOf('=', 8) + 1, header.indexOf(';', 10)))).toBe('a')
  })

  it('answers nothing for a text that shares the signature but not the rest', () => {
    const texts = new VerifiedTexts<string>(100)
    texts.set(`${'a'.repeat(32)}.${signature}`, 'a')
    // The number is made from the signature's characters: the whole text must still be equal.
    expect(texts.get(`${'b'.repeat(32)}.${signature}`)).toBeUndefined()
    expect(texts.get(`${'a'.repeat(31)}.${signature}`)).toBeUndefined()
  })

  it('answers nothing, without throwing, for short or odd texts', () => {
    const texts = new VerifiedTexts<string>(100)
    for (const text of ['', 'a', '.', 'abcdef', '\u{1f600}'.repeat(10)])
      expect(texts.get(text)).toBeUndefined()
    texts.set('ab', 'short')
    expect(texts.get('ab')).toBe('short')
    expect(texts.get('ba')).toBeUndefined()
  })

  it('keeps at most its size', () => {
    const texts = new VerifiedTexts<number>(10)
    const text = (i: number) =>
      `${String(i).padStart(32, '0')}.${signature.slice(0, 30)}${String(i).padStart(13, 'x')}`
    for (let i = 0; i < 100; i++) texts.set(text(i), i)
    expect(texts.get(text(99))).toBe(99)
    expect(texts.get(text(0))).toBeUndefined()
  })
})
