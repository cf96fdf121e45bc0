/**
 * The `next` check of the example's forms: the Node side of what Django does with
 * `url_has_allowed_host_and_scheme(next, allowed_hosts={request host})` followed by `iri_to_uri`
 * (which `HttpResponseRedirect` applies to `Location`).
 */

/** Longest `next` followed; a longer one is ignored (a form sends `/`). */
export const MAX_NEXT_LENGTH = 2048

// Characters `iri_to_uri` leaves alone: Python's `quote` always-safe set plus Django's list.
const SAFE = /[A-Za-z0-9_.\-~/#%[\]=:;$&()+,!?*@']/
// C0 controls, DEL and C1 controls: never part of a path we redirect to (Django refuses a URL
// that starts with one; browsers strip tabs and newlines anywhere, so `/\t/evil` would be `//evil`).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

const encoder = new TextEncoder()

/** `iri_to_uri`: percent-encodes (as UTF-8) every character outside the safe set; `%` stays as it is. */
export function iriToUri(iri: string): string {
  let out = ''
  for (const char of iri) {
    if (SAFE.test(char)) {
      out += char
      continue
    }
    // TextEncoder turns a lone surrogate into U+FFFD instead of throwing as encodeURIComponent does.
    for (const byte of encoder.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * A same-site relative path to redirect to, ready for a `Location` header (printable ASCII only),
 * or `null` for anything else: empty, absolute or scheme-relative (`//host`, `/\host`), with a
 * backslash or a control character anywhere, or longer than `MAX_NEXT_LENGTH`.
 */
export function safeNext(next: unknown): string | null {
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_NEXT_LENGTH) return null
  if (next[0] !== '/' || next[1] === '/' || next.includes('\\') || CONTROL.test(next)) return null
  return iriToUri(next)
}

/** `next` with `key=1` added to its query, before any fragment. */
export function withQueryFlag(next: string, key: string): string {
  const hash = next.indexOf('#')
  const path = hash === -1 ? next : next.slice(0, hash)
  const fragment = hash === -1 ? '' : next.slice(hash)
  return `${path}${path.includes('?') ? '&' : '?'}${key}=1${fragment}`
}
