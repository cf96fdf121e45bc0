import {
  COOKIE_SAFE,
  type ResolvedCookieOptions,
  resolveCookieOptions,
  type SessionCookieOptions,
} from './cookies.ts'
import { missingOption, SessionConfigError } from './errors.ts'
import { cookieSafeIds } from './ids.ts'
import type { IdFormat, SessionBackend } from './types.ts'
import { wallClock } from './wall-clock.ts'

/** Where warnings go (undecodable records, degraded sessions). */
export interface SessionLogger {
  warn(message: string): void
}

/** Options of `createSessionManager`. */
export interface SessionManagerOptions {
  /** The store. */
  backend: SessionBackend
  /** The session cookie. */
  cookie?: SessionCookieOptions
  /**
   * HMAC-SHA256 secrets to sign the cookie with: the first signs, all verify (rotation). Leave
   * unset for plain ids, as Django's `sessionid` is. @default undefined (unsigned)
   */
  secrets?: readonly string[]
  /** Idle timeout in seconds: a session unused this long expires. Django's default. @default 1209600 (14 days) */
  maxAge?: number
  /** Absolute lifetime in seconds from creation, whatever the activity; `null` for none. @default 2592000 (30 days) */
  absoluteMaxAge?: number | null
  /**
   * Seconds between moves of a session's idle expiry: a read moves it by a touch, a write by its
   * save, at most once per interval, and the cookie is sent again only then. `false`: never on a
   * read, at every write (Django's behaviour). @default 60
   */
  touchInterval?: number | false
  /** Trust `X-Forwarded-Proto` to decide whether the request is HTTPS. @default false */
  trustProxy?: boolean
  /** Milliseconds one backend call may take before it fails with `SessionTimeoutError`. @default 5000 */
  timeout?: number
  /**
   * When a load fails: `fail` throws `SessionBackendError` (status 503); `continue` gives an empty,
   * read-only session that is never saved, so stored data is never overwritten. @default 'fail'
   */
  onBackendError?: 'fail' | 'continue'
  /** The data key holding the logged-in user's id (Django's). @default '_auth_user_id' */
  userIdKey?: string
  /** Fresh ids to try when `create` reports a collision. @default 5 */
  createAttempts?: number
  /**
   * Reads and re-applications one `session.update()` may make when other writers keep changing
   * the same key, before it throws `SessionConflictError` (409). @default 10
   */
  updateAttempts?: number
  /** Warnings. @default console */
  logger?: SessionLogger
  /** Clock, epoch ms. @default wallClock */
  now?: () => number
}

export interface ResolvedSessionOptions {
  cookie: ResolvedCookieOptions
  secrets: readonly string[] | null
  maxAge: number
  absoluteMaxAge: number | null
  touchInterval: number | false
  trustProxy: boolean
  timeout: number
  onBackendError: 'fail' | 'continue'
  userIdKey: string
  createAttempts: number
  updateAttempts: number
  logger: SessionLogger
  now: () => number
}

const positiveInt = (pkg: string, option: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new SessionConfigError(pkg, option, '%s must be a positive whole number')
  }
  return value
}

/**
 * The id goes into the cookie as it is, and comes back undecoded (as Django reads it): a format
 * whose ids need escaping would never get its session back. Formats of `alphabetIdFormat` are
 * known by their alphabet; another is judged by a few of its ids.
 */
function checkIdFormat(format: IdFormat | undefined, pkg: string): void {
  if (typeof format?.generate !== 'function' || cookieSafeIds(format)) return
  for (let i = 0; i < 8; i++) {
    if (!COOKIE_SAFE.test(format.generate())) {
      throw new SessionConfigError(
        pkg,
        'backend',
        "%s makes session ids a cookie cannot carry as they are: an id format's characters must be A-Z a-z 0-9 . _ ~ -",
      )
    }
  }
}

/** Validates and resolves options once, into a new frozen object. Throws `SessionConfigError`. */
export function resolveSessionOptions(options: SessionManagerOptions, pkg = 'core'): ResolvedSessionOptions {
  if (!options || typeof options !== 'object') throw missingOption(pkg, 'backend')
  const { backend } = options
  if (!backend) throw missingOption(pkg, 'backend')
  for (const method of ['load', 'create', 'save', 'touch', 'destroy'] as const) {
    if (typeof (backend as Partial<SessionBackend>)[method] !== 'function') {
      throw new SessionConfigError(pkg, 'backend', `%s has no ${method}() method`)
    }
  }
  checkIdFormat(backend.idFormat, pkg)
  const onBackendError = options.onBackendError ?? 'fail'
  if (onBackendError !== 'fail' && onBackendError !== 'continue') {
    throw new SessionConfigError(pkg, 'onBackendError', '%s must be "fail" or "continue"')
  }
  const touchInterval = options.touchInterval ?? 60
  const cookie = resolveCookieOptions(options.cookie)
  if (cookie.sameSite === 'none' && cookie.secure === false) {
    throw new SessionConfigError(pkg, 'cookie.sameSite', '%s "none" needs cookie.secure to be true or "auto"')
  }
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookie.name)) {
    throw new SessionConfigError(pkg, 'cookie.name', '%s is not a valid cookie name')
  }
  return Object.freeze({
    cookie: Object.freeze(cookie),
    secrets: options.secrets ? Object.freeze([...options.secrets]) : null,
    maxAge: positiveInt(pkg, 'maxAge', options.maxAge ?? 1_209_600),
    absoluteMaxAge:
      options.absoluteMaxAge === null
        ? null
        : positiveInt(pkg, 'absoluteMaxAge', options.absoluteMaxAge ?? 2_592_000),
    touchInterval: touchInterval === false ? false : positiveInt(pkg, 'touchInterval', touchInterval),
    trustProxy: options.trustProxy ?? false,
    timeout: positiveInt(pkg, 'timeout', options.timeout ?? 5000),
    onBackendError,
    userIdKey: options.userIdKey ?? '_auth_user_id',
    createAttempts: positiveInt(pkg, 'createAttempts', options.createAttempts ?? 5),
    updateAttempts: positiveInt(pkg, 'updateAttempts', options.updateAttempts ?? 10),
    logger: options.logger ?? console,
    now: options.now ?? wallClock,
  })
}
