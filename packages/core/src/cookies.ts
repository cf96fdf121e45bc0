/** How the session cookie is written. */
export interface SessionCookieOptions {
  /** Cookie name. Django's default, so a Django service reads the same cookie. @default 'sessionid' */
  name?: string
  /** @default '/' */
  path?: string
  /** @default undefined (host-only) */
  domain?: string
  /** @default true */
  httpOnly?: boolean
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** `'auto'` sets Secure when the request is HTTPS (see `trustProxy`). @default 'auto' */
  secure?: boolean | 'auto'
  /** CHIPS partitioned cookie. @default false */
  partitioned?: boolean
  /**
   * Send `Max-Age`/`Expires` so the cookie outlives the browser. `false` makes every cookie a
   * browser-session cookie. @default true
   */
  persistent?: boolean
}

export type ResolvedCookieOptions = Required<Omit<SessionCookieOptions, 'domain'>> & {
  domain: string | undefined
}

/** Cookie values longer than this are never looked at (ids plus a signature are far shorter). */
export const MAX_COOKIE_VALUE_LENGTH = 256
/** Cookie headers longer than this are not parsed at all. */
export const MAX_COOKIE_HEADER_LENGTH = 16 * 1024

export function resolveCookieOptions(options: SessionCookieOptions = {}): ResolvedCookieOptions {
  return {
    name: options.name ?? 'sessionid',
    path: options.path ?? '/',
    domain: options.domain,
    httpOnly: options.httpOnly ?? true,
    sameSite: options.sameSite ?? 'lax',
    secure: options.secure ?? 'auto',
    partitioned: options.partitioned ?? false,
    persistent: options.persistent ?? true,
  }
}

/**
 * The raw value of cookie `name` in a `Cookie` header, or `null`. Never throws.
 *
 * Django's rule, because Django reads the same cookie: the header is split at `;`, each part at its
 * first `=`, names and values are trimmed, and the LAST part with the name wins (so
 * `sessionid=A; sessionid=B` is session `B` for every app, and a trailing empty value is no
 * session). No percent-decoding (Django does none); a double-quoted value loses its quotes.
 */
export function readCookie(header: string | null | undefined, name: string): string | null {
  // Cheap pre-check: most requests without our cookie skip the scan entirely.
  const named =
    typeof header === 'string' && header.length <= MAX_COOKIE_HEADER_LENGTH && header.includes(name)
  return named ? scanCookie(header, name) : null
}

/**
 * `readCookie` without its pre-check, for a caller that made it already (the session manager: its
 * adapters ask `mayCarrySession` first). A header without the name gives `null` all the same.
 */
export function scanCookie(header: string | null | undefined, name: string): string | null {
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_COOKIE_HEADER_LENGTH)
    return null
  // No part's name holds `=` or `;` (the part ends, or its name does, there): no such name is read,
  // nor an empty one (no cookie is named so).
  if (name !== plainName) {
    if (name === '' || name.includes('=') || name.includes(';')) return null
    plainName = name
  }
  // The last part with the name wins. The name is looked for, and taken where it is a part's name,
  // rather than each part cut at its `;` and `=` (two searches and a trim a part, a header of
  // many cookies).
  let from = -1
  let to = -1
  for (let at = 0; at < header.length; ) {
    const found = header.indexOf(name, at)
    if (found === -1) break
    at = found + 1
    const start = skipSpaceBack(header, 0, found)
    if (start > 0 && header.charCodeAt(start - 1) !== 59) continue // not after a `;`
    const eq = skipSpace(header, found + name.length, header.length)
    if (header.charCodeAt(eq) !== 61) continue // not followed by `=`
    const end = header.indexOf(';', eq)
    if (end === -1) return cookieValue(header, eq + 1, header.length) // the last part
    from = eq + 1
    to = end
    at = end + 1
  }
  return from === -1 ? null : cookieValue(header, from, to)
}

/** The last name `scanCookie` found to hold no `=` or `;`. */
let plainName: string | null = null

/** The value in `header[from, end)`, trimmed and unquoted as Django does; `null` when empty or too long. */
function cookieValue(header: string, from: number, end: number): string | null {
  from = skipSpace(header, from, end)
  let to = skipSpaceBack(header, from, end)
  if (to - from >= 2 && header.charCodeAt(from) === 34 && header.charCodeAt(to - 1) === 34) {
    // Python's unquoting also resolves backslash escapes; no valid id holds one, so refuse them.
    const slash = header.indexOf('\\', from)
    if (slash !== -1 && slash < to) return null
    from++
    to--
  }
  if (to === from || to - from > MAX_COOKIE_VALUE_LENGTH) return null
  return header.slice(from, to)
}

/** `String.prototype.trim`'s characters (white space and line terminators): `\s` is that set. */
const TRIMMED = /^\s$/
const isTrimmed = (code: number): boolean =>
  code === 32 || (code >= 9 && code <= 13) || (code > 127 && TRIMMED.test(String.fromCharCode(code)))

/** The first index in `[from, end)` past the trimmed characters, or `end`. */
function skipSpace(header: string, from: number, end: number): number {
  while (from < end && isTrimmed(header.charCodeAt(from))) from++
  return from
}

/** The end of `[from, end)` without its trailing trimmed characters (at least `from`). */
function skipSpaceBack(header: string, from: number, end: number): number {
  while (end > from && isTrimmed(header.charCodeAt(end - 1))) end--
  return end
}

/** Characters `encodeURIComponent` leaves as they are (a subset of them): a cookie value holds them unescaped. */
export const COOKIE_SAFE = /^[A-Za-z0-9._~-]*$/

/** The constant parts of one options object's `Set-Cookie` values, worked out once. */
interface CookieParts {
  /** `; Domain=...; Path=...`, between `Max-Age` and `Expires`. */
  scope: string
  /** `; HttpOnly; Partitioned; SameSite=...` without and with `; Secure`. */
  plain: string
  secure: string
  /** The last `Expires` written, by epoch second: most writes in one second share it. */
  expiresSecond: number
  expires: string
}

// The checks the `cookie` package's `serialize` (1.x) makes of a name, domain and path, as its
// TypeErrors word them: made here, once per options object, the package not bundled for them.
const COOKIE_NAME = /^[\u0021-\u003A\u003C\u003E-\u007E]+$/
const COOKIE_DOMAIN = /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i
const COOKIE_PATH = /^[\u0020-\u003A\u003D-\u007E]*$/

function checkScope({ name, domain, path }: ResolvedCookieOptions): void {
  if (!COOKIE_NAME.test(name)) throw new TypeError(`argument name is invalid: ${name}`)
  if (domain && !COOKIE_DOMAIN.test(domain)) throw new TypeError(`option domain is invalid: ${domain}`)
  if (path && !COOKIE_PATH.test(path)) throw new TypeError(`option path is invalid: ${path}`)
}

// Options are resolved once and never mutated, so their parts can be remembered per object.
const partsByOptions = new WeakMap<ResolvedCookieOptions, CookieParts>()

function partsOf(options: ResolvedCookieOptions): CookieParts {
  let parts = partsByOptions.get(options)
  if (parts === undefined) {
    checkScope(options)
    const sameSite = { lax: '; SameSite=Lax', strict: '; SameSite=Strict', none: '; SameSite=None' }[
      options.sameSite
    ]
    if (sameSite === undefined) throw new TypeError(`option sameSite is invalid: ${options.sameSite}`)
    const head = options.httpOnly ? '; HttpOnly' : ''
    const tail = `${options.partitioned ? '; Partitioned' : ''}${sameSite}`
    parts = {
      scope: `${options.domain ? `; Domain=${options.domain}` : ''}${options.path ? `; Path=${options.path}` : ''}`,
      plain: `${head}${tail}`,
      secure: `${head}; Secure${tail}`,
      expiresSecond: Number.NaN,
      expires: '',
    }
    partsByOptions.set(options, parts)
  }
  return parts
}

/**
 * A `Set-Cookie` value. `maxAgeSeconds` `null` writes a browser-session cookie; `0` deletes the
 * cookie (empty value, epoch expiry, `Max-Age=0`). The same text the `cookie` package's `serialize`
 * writes (attributes in its order), built from parts worked out once per options object: this runs
 * on every write. `valueIsSafe`: the caller knows `value` holds only `[A-Za-z0-9._~-]` (a signed id
 * of a format whose alphabet is), so the per-character test is skipped; anything else is
 * percent-encoded.
 */
export function writeCookie(
  options: ResolvedCookieOptions,
  value: string,
  maxAgeSeconds: number | null,
  secure: boolean,
  now: number,
  valueIsSafe = false,
): string {
  const parts = partsOf(options)
  const persistent = maxAgeSeconds === 0 || (options.persistent && maxAgeSeconds !== null)
  // Signed ids need no escaping: a test is cheaper than `encodeURIComponent`'s copy.
  const written =
    maxAgeSeconds === 0 || !value
      ? ''
      : valueIsSafe || COOKIE_SAFE.test(value)
        ? value
        : encodeURIComponent(value)
  let text = `${options.name}=${written}`
  if (persistent) {
    const maxAge = maxAgeSeconds ?? 0
    if (!Number.isInteger(maxAge)) throw new TypeError(`option maxAge is invalid: ${maxAge}`)
    const second = Math.floor((now + maxAge * 1000) / 1000)
    if (second !== parts.expiresSecond) {
      parts.expires = new Date(now + maxAge * 1000).toUTCString()
      parts.expiresSecond = second
    }
    text += `; Max-Age=${maxAge}${parts.scope}; Expires=${parts.expires}`
  } else text += parts.scope
  return text + ((options.secure === 'auto' ? secure : options.secure) ? parts.secure : parts.plain)
}

/** What the lifecycle needs to know about the request's transport. */
export interface RequestTransport {
  /** `http` or `https` as the server saw it (`https:` is accepted too). */
  protocol?: string | null
  /** The raw `X-Forwarded-Proto` header, read only when `trustProxy` is on. */
  forwardedProto?: string | null
}

/** Whether the request reached us over HTTPS, trusting `X-Forwarded-Proto` only when told to. */
export function isSecureRequest(transport: RequestTransport, trustProxy: boolean): boolean {
  const given = transport.protocol
  // The common spellings first: this runs for every request with a cookie on some adapters.
  const proto = given === 'https' || given === 'http' ? given : (given ?? '').replace(/:$/, '').toLowerCase()
  if (proto === 'https') return true
  if (trustProxy && typeof transport.forwardedProto === 'string') {
    // The first hop is the client's: `https, http` came in over HTTPS.
    return transport.forwardedProto.split(',')[0]!.trim().toLowerCase() === 'https'
  }
  return false
}
