import { isSecureRequest, type RequestTransport, scanCookie } from './cookies.ts'
import type { HttpsAnswer } from './https-answer.ts'
import { cookieSafeIds } from './ids.ts'
import {
  type ResolvedSessionOptions,
  resolveSessionOptions,
  type SessionLogger,
  type SessionManagerOptions,
} from './options.ts'
import { Session, type SessionContext, type SessionManagerStats } from './session.ts'
import { createSigner, type Signer } from './signing.ts'
import type { SessionBackend, SessionData } from './types.ts'

/** The request facts the lifecycle reads: the `Cookie` header and the transport. */
export interface SessionRequest extends RequestTransport {
  /** The raw `Cookie` header. */
  cookie?: string | null
}

/** Opens one lazy `Session` per request. Framework adapters hold one manager each. */
export interface SessionManager<Data extends SessionData = SessionData> {
  readonly backend: SessionBackend
  readonly options: ResolvedSessionOptions
  /** Counters over the manager's lifetime (writes dropped under `onBackendError: 'continue'`). */
  readonly stats: Readonly<SessionManagerStats>
  /** Reads (and, when signing, verifies) the cookie. No backend call: the session loads lazily. */
  open(request: SessionRequest): Promise<Session<Data>>
  /**
   * Whether a `Cookie` header may carry this manager's session cookie. `false` means `open()` would
   * find no id, so an adapter can skip all per-request work until the session is first used.
   */
  mayCarrySession(cookieHeader: string | null | undefined): boolean
  /**
   * The session of a request that carries no session cookie: synchronous, no I/O. `logger` is
   * this request's (a framework's request logger); the manager's `logger` otherwise.
   */
  openWithoutCookie(request: RequestTransport, logger?: SessionLogger): Session<Data>
  /**
   * The session of a `Cookie` header when the adapter already knows whether the request is HTTPS
   * (its framework's own proxy trust decided). Synchronous unless a signed cookie must be verified.
   * `logger` is this request's (a framework's request logger); the manager's `logger` otherwise.
   * `secure` may be a function: the session asks it when it writes a cookie.
   */
  openCookie(
    cookieHeader: string | null | undefined,
    secure: HttpsAnswer,
    logger?: SessionLogger,
  ): Session<Data> | Promise<Session<Data>>
  /**
   * `openCookie` when the header holds the session cookie, `null` (no session made) when it does
   * not: one search of the header, where `mayCarrySession` then `openCookie` make two.
   */
  openPresent(
    cookieHeader: string | null | undefined,
    secure: HttpsAnswer,
    logger?: SessionLogger,
  ): Session<Data> | Promise<Session<Data>> | null
}

/** Options of `createSessionManager` beyond the session options: who is asking. */
export interface SessionManagerMeta {
  /** The package named in configuration errors. @default 'core' */
  package?: string
}

/**
 * The framework-free session lifecycle. Misconfiguration throws `SessionConfigError` here, at
 * startup, naming the option.
 */
export function createSessionManager<Data extends SessionData = SessionData>(
  options: SessionManagerOptions,
  meta: SessionManagerMeta = {},
): SessionManager<Data> {
  const pkg = meta.package ?? 'core'
  const resolved = resolveSessionOptions(options, pkg)
  const { backend } = options
  const signer: Signer | null = resolved.secrets ? createSigner(resolved.secrets, pkg) : null
  const ctx: SessionContext = {
    backend,
    options: resolved,
    signer,
    cookieSafeIds: cookieSafeIds(backend.idFormat),
    stats: { droppedWrites: 0 },
  }

  const cookieName = resolved.cookie.name
  /** `signed`: the cookie's value when `raw` came out of its signature. */
  const fromRaw = (
    raw: string | null,
    staleSignature: boolean,
    secure: HttpsAnswer,
    logger: SessionLogger | undefined,
    signed?: string,
  ) => {
    // A malformed id never reaches the backend: it is simply "no session".
    const id = raw !== null && backend.idFormat.validate(raw) ? raw : null
    return new Session<Data>(ctx, {
      id,
      staleSignature: id !== null && staleSignature,
      secure,
      logger,
      signedId: id !== null && !staleSignature ? signed : undefined,
    })
  }
  /** The session of the cookie value `raw` (`null`: none), its signature verified first. */
  const openRaw = (raw: string | null, secure: HttpsAnswer, logger?: SessionLogger) => {
    if (raw === null || !signer) return fromRaw(raw, false, secure, logger)
    // A signature verified before is known at once: no promise for a returning visitor.
    const known = signer.verified?.(raw)
    if (known) return fromRaw(known.value, known.renew, secure, logger, raw)
    return signer.unsign(raw).then((checked) => fromRaw(checked.value, checked.renew, secure, logger, raw))
  }
  // Adapters call this after `mayCarrySession`: the header is not searched for the name twice.
  const openCookie = (cookieHeader: string | null | undefined, secure: HttpsAnswer, logger?: SessionLogger) =>
    openRaw(scanCookie(cookieHeader, cookieName), secure, logger)
  return {
    backend,
    options: resolved,
    stats: ctx.stats,
    mayCarrySession(cookieHeader) {
      return typeof cookieHeader === 'string' && cookieHeader.includes(cookieName)
    },
    openWithoutCookie(request, logger) {
      const secure = isSecureRequest(request, resolved.trustProxy)
      return new Session<Data>(ctx, { id: null, staleSignature: false, secure, logger })
    },
    openCookie,
    openPresent(cookieHeader, secure, logger) {
      const raw = scanCookie(cookieHeader, cookieName)
      return raw === null ? null : openRaw(raw, secure, logger)
    },
    open(request) {
      // Not async: returning openCookie's promise from an async function would wrap it in another.
      try {
        return Promise.resolve(openCookie(request.cookie, isSecureRequest(request, resolved.trustProxy)))
      } catch (error) {
        return Promise.reject(error)
      }
    },
  }
}
