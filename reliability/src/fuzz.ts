import fc from 'fast-check'

/** Cases per fuzz target: at least 10,000 in CI (the issue's floor), fewer locally to stay quick. */
export const FUZZ_RUNS = process.env.CI && process.env.CI !== 'false' ? 10_000 : 1_000

/** fast-check parameters every fuzz target shares. */
export const fuzzParams = (numRuns = FUZZ_RUNS): fc.Parameters<unknown> => ({ numRuns, endOnFailure: true })

/** Any string made of arbitrary bytes (each byte one latin-1 character), as a raw header could carry. */
export const byteString = (maxLength = 300): fc.Arbitrary<string> =>
  fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes).toString('latin1'))

/** Printable-ish text with the separators cookie and header parsers care about. */
export const headerish = (maxLength = 200): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.constantFrom(...'abcz09AZ=;, ."\\%+/-_:\t\u0000\u00ff\u2028é'.split('')),
    maxLength,
  })

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('')
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')

/** Strings shaped like a Django session id (right length or nearly). */
export const idLike = (): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...LOWER_ALNUM, 'A', '-', '.'), minLength: 30, maxLength: 34 })

/** `id.signature` with a forged base64url signature of the right length. */
export const forgedSigned = (): fc.Arbitrary<string> =>
  fc
    .tuple(idLike(), fc.string({ unit: fc.constantFrom(...B64URL), minLength: 43, maxLength: 43 }))
    .map(([id, sig]) => `${id}.${sig}`)

/** Every hostile `Cookie` header shape the issue lists: bytes, huge, many, duplicates, forged signatures. */
export const hostileCookieHeader = (name = 'sessionid'): fc.Arbitrary<string> =>
  fc.oneof(
    byteString(),
    headerish(),
    fc.tuple(headerish(40), fc.integer({ min: 200, max: 2000 })).map(([s, n]) => `${name}=${s.repeat(n)}`),
    fc
      .array(fc.tuple(fc.oneof(fc.constant(name), headerish(12)), fc.oneof(idLike(), headerish(40))), {
        maxLength: 60,
      })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('; ')),
    fc.tuple(idLike(), idLike()).map(([a, b]) => `${name}=${a}; ${name}=${b}`),
    forgedSigned().map((v) => `${name}=${v}`),
    idLike().map((v) => `${name}=${v}`),
    idLike().map((v) => `${name}="${v}"`),
    idLike().map((v) => `${name}=${encodeURIComponent(`${v}\u0000`)}`),
  )

/**
 * What an HTTP client can actually send as a header value: tab, printable ASCII and obs-text
 * (0x80-0xFF), without leading or trailing whitespace. Everything else is refused client-side.
 */
export const asHeaderValue = (text: string): string =>
  text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').replace(/^[\t ]+|[\t ]+$/g, '')

/** Test timeout of a fuzz target: 10,000 round trips to a shared server on a busy 2-core machine take a while. */
export const FUZZ_TIMEOUT = FUZZ_RUNS >= 10_000 ? 300_000 : 60_000

/**
 * Values checked per property case against a network store, each under its own session id and in
 * parallel: 10,000 values then take 1,000 sequential rounds instead of 10,000.
 */
export const BATCH = 10

/** `BATCH` values of `arbitrary` at once. */
export const batch = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T[]> =>
  fc.array(arbitrary, { minLength: BATCH, maxLength: BATCH })

/** Parameters for `values` values checked `BATCH` at a time. */
export const batchedParams = (values = FUZZ_RUNS): fc.Parameters<unknown> =>
  fuzzParams(Math.ceil(values / BATCH))
