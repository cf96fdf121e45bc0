// What one `sessionMiddleware()` or `sessionFetch()` resolves once from its options and shares with
// its requests: the core driver, the proxy rule and the client-address reader.
import type { AuthUser, SessionData, SessionLogger } from '@sessionbridge/core'
import { SessionConfigError } from '@sessionbridge/core'
import { SessionDriver, type SessionDriverOptions, sessionErrorAnswer } from '@sessionbridge/core/adapter'
import type { Context } from 'hono'
import { socketAddress } from './request-io.ts'

/** Options of the middleware and of `sessionFetch`: the core session options plus `users` and `tickets`. */
export interface HonoSessionOptions<User extends AuthUser = AuthUser> extends SessionDriverOptions<User> {
  /**
   * Hono has no proxy setting of its own, so this is it: trust the first `X-Forwarded-Proto` hop to
   * decide HTTPS (for `cookie.secure: 'auto'`). @default false
   */
  trustProxy?: boolean
  /**
   * The client address for the throttle's per-address rule (and the Basic guards). Behind a proxy,
   * read the header your proxy sets. @default the socket's address on `@hono/node-server`, else none
   */
  clientAddress?: (c: Context) => string | null | undefined
}

/** The resolved options, made once. */
export interface Binding {
  readonly driver: SessionDriver<AuthUser, SessionData>
  readonly trustProxy: boolean
  readonly clientAddress: (c: Context) => string | null | undefined
  readonly logger: SessionLogger
}

/** Resolves the options; misconfiguration throws `SessionConfigError` naming the option, at startup. */
export function bindSessions<User extends AuthUser, Data extends SessionData>(
  options: HonoSessionOptions<User>,
): Binding {
  const {
    trustProxy = false,
    clientAddress = socketAddress,
    ...driverOptions
  } = options ?? ({} as HonoSessionOptions<User>)
  if (typeof clientAddress !== 'function') {
    throw new SessionConfigError('hono', 'clientAddress', '%s must be a function (c) => string | null')
  }
  const driver = new SessionDriver<User, Data>(driverOptions, { package: 'hono', frameworkProxyTrust: false })
  return {
    driver: driver as unknown as SessionDriver<AuthUser, SessionData>,
    trustProxy,
    clientAddress: clientAddress as Binding['clientAddress'],
    logger: driver.manager.options.logger,
  }
}

/** Logs a failed commit; its generic answer (503, 409) when it is a session error. */
export function commitFailed(binding: Binding, error: unknown) {
  binding.logger.warn(`[sessionbridge/hono] commit failed: ${(error as Error)?.message}`)
  return sessionErrorAnswer(error)
}
