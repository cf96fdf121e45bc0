import { serialize } from 'cookie'

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
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_COOKIE_HEADER_LENGTH)
    return null
  // Cheap pre-check: most requests without our cookie skip the scan entirely.
  if (!header.includes(name)) return null
  let value: string | null = null
  for (let start = 0; start < header.length; ) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    const eq = header.indexOf('=', start)
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      value = header.slice(eq + 1, end).trim()
    }
    start = end + 1
  }
  if (value !== null && value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    // Python's unquoting also resolves backslash escapes; no valid id holds one, so refuse them.
    value = value.includes('\\') ? null : value.slice(1, -1)
  }
  if (value === null || value.length === 0 || value.length > MAX_COOKIE_VALUE_LENGTH) return null
  return value
}

/**
 * A `Set-Cookie` value. `maxAgeSeconds` `null` writes a browser-session cookie; `0` deletes the
 * cookie (empty value, epoch expiry, `Max-Age=0`).
 */
export function writeCookie(
  options: ResolvedCookieOptions,
  value: string,
  maxAgeSeconds: number | null,
  secure: boolean,
  now: number,
): string {
  const persistent = maxAgeSeconds === 0 || (options.persistent && maxAgeSeconds !== null)
  return serialize(options.name, maxAgeSeconds === 0 ? '' : value, {
    path: options.path,
    domain: options.domain,
    httpOnly: options.httpOnly,
    sameSite: options.sameSite,
    secure: options.secure === 'auto' ? secure : options.secure,
    partitioned: options.partitioned || undefined,
    ...(persistent
      ? { maxAge: maxAgeSeconds ?? 0, expires: new Date(now + (maxAgeSeconds ?? 0) * 1000) }
      : {}),
  })
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
  const proto = (transport.protocol ?? '').replace(/:$/, '').toLowerCase()
  if (proto === 'https') return true
  if (trustProxy && typeof transport.forwardedProto === 'string') {
    // The first hop is the client's: `https, http` came in over HTTPS.
    return transport.forwardedProto.split(',')[0]!.trim().toLowerCase() === 'https'
  }
  return false
}
