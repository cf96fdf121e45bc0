const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Django's `baseconv.base62.encode` of a non-negative whole number (signing timestamps). */
export function base62Encode(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError('base62 needs a non-negative safe integer')
  if (value === 0) return '0'
  let out = ''
  let n = value
  while (n > 0) {
    out = ALPHABET[n % 62]! + out
    n = Math.floor(n / 62)
  }
  return out
}

/** Django's `baseconv.base62.decode`; `null` for characters outside the alphabet or an empty string. */
export function base62Decode(text: string): number | null {
  if (text.length === 0 || text.length > 9) return null
  let n = 0
  for (const ch of text) {
    const digit = ALPHABET.indexOf(ch)
    if (digit < 0) return null
    n = n * 62 + digit
  }
  return n
}
