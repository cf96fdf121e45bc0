import { SessionConfigError } from './errors.ts'

/** Why the origin part of a CSRF check refused a request (Django's reasons, as codes). */
export type CsrfOriginReason =
  | 'bad-origin'
  | 'no-referer'
  | 'malformed-referer'
  | 'insecure-referer'
  | 'bad-referer'

/** Options of `csrfOriginCheck`. */
export interface CsrfOriginOptions {
  /**
   * Django's `CSRF_TRUSTED_ORIGINS` (4.0+ syntax): origins with a scheme, `https://app.example.com`,
   * or a leading `*.` for every subdomain, `https://*.example.com`. @default []
   */
  trustedOrigins?: readonly string[]
  /**
   * The cookie domain the Referer may match on HTTPS (`CSRF_COOKIE_DOMAIN`, or `SESSION_COOKIE_DOMAIN`
   * with `CSRF_USE_SESSIONS`). @default undefined (the request's host, exactly)
   */
  cookieDomain?: string
}

/** The request facts the origin check reads. */
export interface CsrfOriginRequest {
  /** The `Host` header (with port, if any). */
  host: string | null | undefined
  /** The request came over HTTPS. */
  secure: boolean
  origin: string | null | undefined
  referer: string | null | undefined
}

/** The resolved check: `null` = verified, or the reason to refuse. */
export interface CsrfOriginCheck {
  verify(request: CsrfOriginRequest): { reason: CsrfOriginReason; detail: string } | null
}

/** Django's `is_same_domain`: `.example.com` matches example.com and its subdomains. */
export function isSameDomain(host: string, pattern: string): boolean {
  if (!pattern) return false
  const p = pattern.toLowerCase()
  const h = host.toLowerCase()
  return p.startsWith('.') ? h.endsWith(p) || h === p.slice(1) : h === p
}

interface TrustedOrigin {
  exact: string | null
  scheme: string
  /** `.example.com` for wildcard entries, the host for exact ones. */
  hostPattern: string
}

function parseTrusted(entry: unknown, pkg: string): TrustedOrigin {
  const bad = () =>
    new SessionConfigError(
      pkg,
      'trustedOrigins',
      `%s entries must be origins with a scheme, like "https://example.com" or "https://*.example.com" (got ${JSON.stringify(entry)})`,
    )
  if (typeof entry !== 'string') throw bad()
  const match = /^([a-z][a-z0-9+.-]*):\/\/(\*\.)?([^/?#*]+)\/?$/i.exec(entry)
  if (!match) throw bad()
  const scheme = match[1]!.toLowerCase()
  const netloc = match[3]!.toLowerCase()
  return match[2]
    ? { exact: null, scheme, hostPattern: `.${netloc}` }
    : { exact: `${scheme}://${netloc}`, scheme, hostPattern: netloc }
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text)
  } catch {
    return null
  }
}

const portOf = (host: string, secure: boolean) => {
  const match = /:([0-9]+)$/.exec(host)
  return match && !host.endsWith(']') ? match[1]! : secure ? '443' : '80'
}

/**
 * Django 4.0+'s origin checks: an `Origin` header must be the request's own origin or a trusted
 * one; without `Origin`, an HTTPS request needs an HTTPS `Referer` from the same host, the cookie
 * domain or a trusted origin. A request with neither header over plain HTTP passes on to the token.
 */
export function csrfOriginCheck(options: CsrfOriginOptions = {}, pkg = 'core'): CsrfOriginCheck {
  const list = options.trustedOrigins ?? []
  if (!Array.isArray(list)) throw new SessionConfigError(pkg, 'trustedOrigins', '%s must be an array')
  const trusted = list.map((entry) => parseTrusted(entry, pkg))
  const exact = new Set(trusted.flatMap((t) => (t.exact ? [t.exact] : [])))
  const cookieDomain = options.cookieDomain

  const originVerified = (request: CsrfOriginRequest, origin: string) => {
    const requested = origin.toLowerCase()
    if (request.host && requested === `${request.secure ? 'https' : 'http'}://${request.host.toLowerCase()}`)
      return true
    if (exact.has(requested)) return true
    const url = parseUrl(origin)
    if (!url) return false
    const scheme = url.protocol.replace(/:$/, '')
    return trusted.some(
      (t) => t.exact === null && t.scheme === scheme && isSameDomain(url.host, t.hostPattern),
    )
  }

  const refererReason = (request: CsrfOriginRequest): { reason: CsrfOriginReason; detail: string } | null => {
    const referer = request.referer
    if (typeof referer !== 'string' || referer === '') return { reason: 'no-referer', detail: '' }
    const url = parseUrl(referer)
    if (!url || url.host === '') return { reason: 'malformed-referer', detail: '' }
    if (url.protocol !== 'https:') return { reason: 'insecure-referer', detail: '' }
    if (trusted.some((t) => isSameDomain(url.host, t.hostPattern))) return null
    let good: string | null
    if (cookieDomain !== undefined) {
      const port = request.host ? portOf(request.host, true) : '443'
      good = port === '443' || port === '80' ? cookieDomain : `${cookieDomain}:${port}`
    } else {
      good = request.host ?? null
    }
    return good !== null && isSameDomain(url.host, good) ? null : { reason: 'bad-referer', detail: url.href }
  }

  return Object.freeze({
    verify(request: CsrfOriginRequest) {
      const origin = request.origin
      if (typeof origin === 'string') {
        return originVerified(request, origin) ? null : { reason: 'bad-origin' as const, detail: origin }
      }
      return request.secure ? refererReason(request) : null
    },
  })
}
