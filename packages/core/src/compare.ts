const encoder = new TextEncoder()

/**
 * Compares two secrets in time that depends only on their lengths, never on where they differ.
 * Strings are compared as UTF-8 bytes.
 */
export function timingSafeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === 'string' ? encoder.encode(a) : a
  const y = typeof b === 'string' ? encoder.encode(b) : b
  // Walk the longer input fully so a length mismatch costs as much as a content mismatch.
  const len = Math.max(x.length, y.length)
  let diff = x.length ^ y.length
  for (let i = 0; i < len; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}
