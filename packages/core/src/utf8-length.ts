// The size limits of stored sessions are in UTF-8 bytes (memcached's item size, the SQL backends'
// `maxDataBytes`), while a JS string counts UTF-16 units: one unit is at most 3 bytes of UTF-8 (a
// surrogate pair, two units, is 4), so a text of at most `limit / 3` units fits without counting.

/**
 * The UTF-8 length of `text` when it is over `limit` bytes; `null` when it fits. Most session texts
 * are answered from their length alone; the others are counted here, without encoding them (a lone
 * surrogate counts 3 bytes, as `TextEncoder` writes it: U+FFFD).
 */
export function utf8Overflow(text: string, limit: number): number | null {
  if (text.length * 3 <= limit) return null
  const bytes = utf8Length(text)
  return bytes > limit ? bytes : null
}

/** The number of bytes `new TextEncoder().encode(text)` would make. */
export function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) continue
    if (unit < 0x800) {
      bytes += 1
      continue
    }
    // 3 bytes a unit, a lone surrogate too; a surrogate pair is 4 for its two units.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2
        i++
        continue
      }
    }
    bytes += 2
  }
  return bytes
}
