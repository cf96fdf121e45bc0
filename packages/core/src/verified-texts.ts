import { BoundedCache } from './bounded-cache.ts'
import { internString } from './intern.ts'

/** One signed text whose signature checked out, and what checking it gave. */
interface Verified<T> {
  readonly signed: string
  readonly result: T
}

/**
 * The signed texts (`value.signature`) verified before, found by a number made from six characters
 * of the signature rather than by the whole text: a `Map` keyed by a request's fresh cookie text
 * hashes all of its ~76 characters at every lookup (about 950 instructions in V8) before it
 * compares them. A genuine signature's characters are random, so two entries rarely share a
 * number (the later one is kept; the other is verified again when it comes back), and the
 * multipliers are random per process, so a client cannot choose which kept text its own is
 * compared with (as the engine's seeded string hash did). The kept texts are the engine's shared
 * copy (`internString`): a slice of a request's `Cookie` header would keep the whole header alive.
 */
export class VerifiedTexts<T> {
  readonly #entries: BoundedCache<number, Verified<T>>
  readonly #mix = crypto.getRandomValues(new Uint32Array(6))

  /** `size`: most texts kept (see `BoundedCache`). */
  constructor(size: number) {
    this.#entries = new BoundedCache(size)
  }

  /** What checking `signed` gave before, or `undefined`. */
  get(signed: string): T | undefined {
    const entry = this.#entries.get(this.#key(signed))
    return entry !== undefined && entry.signed === signed ? entry.result : undefined
  }

  set(signed: string, result: T): void {
    this.#entries.set(this.#key(signed), { signed: internString(signed), result })
  }

  /**
   * A small integer from the six characters before the last (a SHA-256 signature's last base64url
   * character carries 4 bits only); `NaN` characters of a short text count as 0.
   */
  #key(signed: string): number {
    const m = this.#mix
    const end = signed.length - 1
    return (
      (Math.imul(signed.charCodeAt(end - 1), m[0]!) ^
        Math.imul(signed.charCodeAt(end - 2), m[1]!) ^
        Math.imul(signed.charCodeAt(end - 3), m[2]!) ^
        Math.imul(signed.charCodeAt(end - 4), m[3]!) ^
        Math.imul(signed.charCodeAt(end - 5), m[4]!) ^
        Math.imul(signed.charCodeAt(end - 6), m[5]!)) &
      0x3fffffff
    )
  }
}
