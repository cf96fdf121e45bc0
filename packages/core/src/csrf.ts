import { type ResolvedCookieOptions, readCookie, writeCookie } from './cookies.ts'
import { type CsrfOriginReason, csrfOriginCheck } from './csrf-origin.ts'
import { type DjangoCsrfTokenOptions, type DjangoCsrfTokens, djangoCsrfTokens } from './csrf-token.ts'
import { SessionConfigError } from './errors.ts'
import type { Session } from './session.ts'
import type { SessionData } from './types.ts'

/** The CSRF cookie, like Django's `CSRF_COOKIE_*` settings. */
export interface CsrfCookieOptions {
  /** `CSRF_COOKIE_NAME`. @default 'csrftoken' */
  name?: string
  /** `CSRF_COOKIE_DOMAIN`; also what the HTTPS Referer may match. @default undefined (host-only) */
  domain?: string
  /** `CSRF_COOKIE_PATH`. @default '/' */
  path?: string
  /** `CSRF_COOKIE_SECURE`; `'auto'` sets Secure on HTTPS requests. @default 'auto' */
  secure?: boolean | 'auto'
  /** `CSRF_COOKIE_HTTPONLY`: true stops scripts from reading the token from the cookie. @default false */
  httpOnly?: boolean
  /** `CSRF_COOKIE_SAMESITE`. @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** `CSRF_COOKIE_AGE` in seconds; `null` for a browser-session cookie. @default 31449600 (a year) */
  maxAgeSeconds?: number | null
}

/** Options of `csrfProtection`. */
export interface CsrfOptions extends DjangoCsrfTokenOptions {
  cookie?: CsrfCookieOptions
  /** `CSRF_USE_SESSIONS`: keep the token in the session (key `_csrftoken`) instead of a cookie. @default false */
  useSessions?: boolean
  /** The session cookie's domain, which the HTTPS Referer may match with `useSessions`. @default undefined */
  sessionCookieDomain?: string
  /** `CSRF_HEADER_NAME`, as an HTTP header name (`HTTP_X_CSRFTOKEN` is read as `X-CSRFToken`). @default 'X-CSRFToken' */
  headerName?: string
  /** The form field with the token (Django's `csrfmiddlewaretoken`). @default 'csrfmiddlewaretoken' */
  fieldName?: string
  /** `CSRF_TRUSTED_ORIGINS`, with scheme: `https://example.com`, `https://*.example.com`. @default [] */
  trustedOrigins?: readonly string[]
  /**
   * Let `Sec-Fetch-Site: same-origin` (sent by every current browser, unforgeable by pages) stand in
   * for the Origin/Referer checks. The token is required either way. @default true
   */
  secFetchSite?: boolean
}

/** Why a CSRF check refused a request. */
export type CsrfReason =
  | CsrfOriginReason
  | 'no-cookie'
  | 'bad-cookie'
  | 'token-missing'
  | 'token-format'
  | 'token-incorrect'

/** A CSRF verdict: pass, or a 403 with a reason code and Django's reason text. */
export type CsrfDecision = { ok: true } | { ok: false; status: 403; reason: CsrfReason; message: string }

/** The request facts one check reads. */
export interface CsrfRequest {
  method: string
  /** The `Host` header. */
  host: string | null | undefined
  /** HTTPS, as the adapter decided it (see `trustProxy`). */
  secure: boolean
  origin?: string | null
  referer?: string | null
  secFetchSite?: string | null
  /** The value of the configured token header. */
  headerToken?: string | null
  /** The form field (urlencoded or multipart POST bodies only); read only when needed. */
  formToken?: () => string | null | undefined | Promise<string | null | undefined>
}

/** Where one request's token comes from. */
export interface CsrfStart {
  /** The raw `Cookie` header. */
  cookie: string | null | undefined
  /** The request's session; needed with `useSessions`. */
  session?: Session<SessionData> | null
}

/** The resolved protection, shared by all requests. */
export interface CsrfProtection {
  readonly tokens: DjangoCsrfTokens
  /** Lower-case name of the token header. */
  readonly headerName: string
  readonly fieldName: string
  readonly cookieName: string
  readonly useSessions: boolean
  /** One request's CSRF state (Django's `process_request`). Never throws. */
  open(start: CsrfStart): CsrfState
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
/** Django's `CSRF_SESSION_KEY`. */
export const CSRF_SESSION_KEY = '_csrftoken'
const DEFAULT_AGE = 31_449_600
const REASON_TEXT: Record<CsrfReason, string> = {
  'bad-origin': 'Origin checking failed - %s does not match any trusted origins.',
  'no-referer': 'Referer checking failed - no Referer.',
  'malformed-referer': 'Referer checking failed - Referer is malformed.',
  'insecure-referer': 'Referer checking failed - Referer is insecure while host is secure.',
  'bad-referer': 'Referer checking failed - %s does not match any trusted origins.',
  'no-cookie': 'CSRF cookie not set.',
  'bad-cookie': 'CSRF cookie has incorrect length or invalid characters.',
  'token-missing': 'CSRF token missing.',
  'token-format': 'CSRF token has incorrect length or invalid characters.',
  'token-incorrect': 'CSRF token incorrect.',
}

const refuse = (reason: CsrfReason, detail = ''): CsrfDecision => ({
  ok: false,
  status: 403,
  reason,
  message: REASON_TEXT[reason].replace('%s', detail),
})

/** `HTTP_X_CSRFTOKEN` (Django's META form) or `X-CSRFToken` -> `x-csrftoken`. */
function headerNameOf(name: unknown, pkg: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new SessionConfigError(pkg, 'headerName', '%s must be a header name like "X-CSRFToken"')
  }
  return (name.startsWith('HTTP_') ? name.slice(5).replace(/_/g, '-') : name).toLowerCase()
}

function resolveCookie(
  cookie: CsrfCookieOptions,
  pkg: string,
): ResolvedCookieOptions & { maxAge: number | null } {
  const name = cookie.name ?? 'csrftoken'
  if (typeof name !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new SessionConfigError(pkg, 'cookie.name', '%s must be a cookie name token')
  }
  const maxAge = cookie.maxAgeSeconds === undefined ? DEFAULT_AGE : cookie.maxAgeSeconds
  if (maxAge !== null && (!Number.isInteger(maxAge) || maxAge <= 0)) {
    throw new SessionConfigError(pkg, 'cookie.maxAgeSeconds', '%s must be a positive whole number or null')
  }
  const sameSite = cookie.sameSite ?? 'lax'
  const secure = cookie.secure ?? 'auto'
  if (sameSite === 'none' && secure === false) {
    throw new SessionConfigError(pkg, 'cookie.sameSite', '%s "none" needs a Secure cookie')
  }
  return {
    name,
    path: cookie.path ?? '/',
    domain: cookie.domain,
    httpOnly: cookie.httpOnly ?? false,
    sameSite,
    secure,
    partitioned: false,
    persistent: maxAge !== null,
    maxAge,
  }
}

/**
 * Django-compatible CSRF protection, framework-free: what `CsrfViewMiddleware`, `get_token` and
 * `rotate_token` do, with the token format of the configured Django version. Options are checked
 * once; misconfiguration throws `SessionConfigError`.
 */
export function csrfProtection(options: CsrfOptions = {}, pkg = 'core'): CsrfProtection {
  const tokens = djangoCsrfTokens(options, pkg)
  const cookie = resolveCookie(options.cookie ?? {}, pkg)
  const useSessions = options.useSessions ?? false
  const origin = csrfOriginCheck(
    {
      trustedOrigins: options.trustedOrigins,
      cookieDomain: useSessions ? options.sessionCookieDomain : cookie.domain,
    },
    pkg,
  )
  const fieldName = options.fieldName ?? 'csrfmiddlewaretoken'
  if (typeof fieldName !== 'string' || fieldName === '') {
    throw new SessionConfigError(pkg, 'fieldName', '%s must be a non-empty string')
  }
  const shared: Shared = {
    tokens,
    cookie,
    useSessions,
    origin,
    fieldName,
    headerName: headerNameOf(options.headerName ?? 'X-CSRFToken', pkg),
    secFetchSite: options.secFetchSite ?? true,
  }
  return Object.freeze({
    tokens,
    headerName: shared.headerName,
    fieldName,
    cookieName: cookie.name,
    useSessions,
    open: (start: CsrfStart) => new CsrfState(shared, start),
  })
}

interface Shared {
  tokens: DjangoCsrfTokens
  cookie: ResolvedCookieOptions & { maxAge: number | null }
  useSessions: boolean
  origin: ReturnType<typeof csrfOriginCheck>
  fieldName: string
  headerName: string
  secFetchSite: boolean
}

/** One request's CSRF token state: check, `token()` for forms, rotation, and the cookie to send. */
export class CsrfState {
  #shared: Shared
  #session: Session<SessionData> | null
  #rawCookie: string | null
  /** `undefined` until read; `null` when the request has none. */
  #secret: string | null | undefined
  #badCookie = false
  #needsUpdate = false

  constructor(shared: Shared, start: CsrfStart) {
    this.#shared = shared
    this.#session = start.session ?? null
    this.#rawCookie = shared.useSessions ? null : readCookie(start.cookie, shared.cookie.name)
    if (!shared.useSessions) this.#secret = this.#fromStored(this.#rawCookie)
  }

  #fromStored(value: unknown): string | null {
    if (value === null || value === undefined) return null
    const secret = this.#shared.tokens.secretOf(typeof value === 'string' ? value : null)
    // A malformed cookie is replaced, as Django 4.x does; the request itself is refused.
    if (secret === null) {
      this.#badCookie = true
      this.#needsUpdate = true
    }
    return secret
  }

  async #current(): Promise<string | null> {
    if (this.#secret === undefined) {
      if (!this.#session) return null
      this.#secret = this.#fromStored(await this.#session.get(CSRF_SESSION_KEY))
    }
    return this.#secret
  }

  /** Django's `get_token`: a fresh masked token for a form or a header; makes the cookie be sent. */
  async token(): Promise<string> {
    let secret = await this.#current()
    if (secret === null) {
      secret = this.#secret = this.#shared.tokens.newSecret()
      this.#store(secret)
    }
    this.#needsUpdate = true
    return this.#shared.tokens.mask(secret)
  }

  /** Django's `rotate_token`: a new secret from now on; every token issued before stops working. */
  rotate(): void {
    this.#secret = this.#shared.tokens.newSecret()
    this.#badCookie = false
    this.#needsUpdate = true
    this.#store(this.#secret)
  }

  /** With `useSessions` a new secret goes into the session at once, so it commits with the session. */
  #store(secret: string): void {
    if (this.#shared.useSessions)
      this.#session?.set(CSRF_SESSION_KEY, this.#shared.tokens.cookieValue(secret))
  }

  /** At login: rotate, as Django's `login()` does. */
  onLogin(): void {
    this.rotate()
  }

  /** At logout: rotate the cookie; in the session it goes with the flushed session. */
  onLogout(): void {
    if (this.#shared.useSessions) {
      this.#secret = null
      this.#needsUpdate = false
    } else this.rotate()
  }

  /** Django's `process_view` for this request. Safe methods pass; never throws for bad input. */
  async check(request: CsrfRequest): Promise<CsrfDecision> {
    if (SAFE.has(String(request.method).toUpperCase())) return { ok: true }
    const shared = this.#shared
    const sameOrigin = shared.secFetchSite && request.secFetchSite === 'same-origin'
    if (!sameOrigin) {
      const failed = shared.origin.verify({
        host: request.host,
        secure: request.secure,
        origin: request.origin,
        referer: request.referer,
      })
      if (failed) return refuse(failed.reason, failed.detail)
    }
    const secret = await this.#current()
    if (this.#badCookie) return refuse('bad-cookie')
    if (secret === null) return refuse('no-cookie')
    let token: string | null | undefined = null
    if (String(request.method).toUpperCase() === 'POST' && request.formToken) {
      try {
        token = await request.formToken()
      } catch {
        token = null // an unreadable body is a missing token, as in Django
      }
    }
    if (typeof token !== 'string' || token === '') token = request.headerToken
    if (typeof token !== 'string') return refuse('token-missing')
    if (!this.#shared.tokens.secretOf(token)) return refuse('token-format')
    return this.#shared.tokens.matches(token, secret) ? { ok: true } : refuse('token-incorrect')
  }

  /** Whether the cookie (or session value) must be written at commit. */
  get needsUpdate(): boolean {
    return this.#needsUpdate
  }

  /**
   * Django's `process_response`: the `Set-Cookie` value to send, or `null`. With `useSessions` there
   * is never a cookie: the session already holds the token.
   */
  commit(secure: boolean, now = Date.now()): string | null {
    if (!this.#needsUpdate || this.#shared.useSessions) return null
    this.#needsUpdate = false
    const secret = this.#secret ?? this.#shared.tokens.newSecret()
    const value = this.#shared.tokens.cookieValue(secret)
    return writeCookie(this.#shared.cookie, value, this.#shared.cookie.maxAge, secure, now)
  }
}
