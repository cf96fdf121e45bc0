/** Median of a list of numbers (the list is copied, not sorted in place). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Pearson's chi-square statistic of symbol counts in `samples` against a uniform `alphabet`. */
export function chiSquare(samples: readonly string[], alphabet: string): number {
  const counts = new Map<string, number>([...alphabet].map((ch) => [ch, 0]))
  let total = 0
  for (const sample of samples) {
    for (const ch of sample) {
      counts.set(ch, (counts.get(ch) ?? 0) + 1)
      total++
    }
  }
  const expected = total / alphabet.length
  let statistic = 0
  for (const count of counts.values()) statistic += (count - expected) ** 2 / expected
  return statistic
}

/** Fraction of 1 bits over all bytes (the monobit test): 0.5 for a fair source. */
export function onesFraction(chunks: readonly Uint8Array[]): number {
  let ones = 0
  let bits = 0
  for (const bytes of chunks) {
    for (const byte of bytes) {
      let b = byte
      while (b) {
        ones += b & 1
        b >>= 1
      }
      bits += 8
    }
  }
  return ones / bits
}
