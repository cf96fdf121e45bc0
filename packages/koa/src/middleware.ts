import {
  type AuthUser,
  checkUserSource,
  createSessionManager,
  type LazyUser,
  RequestAuth,
  type Session,
  type SessionData,
  type SessionManagerOptions,
  type UserSource,
} from '@sessionbridge/core'
import type { Context, Middleware, Next } from 'koa'

/** Your session's data type: `declare module '@sessionbridge/koa' { interface SessionDataMap { count: number } }`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the application through augmentation
export interface SessionDataMap {}
/** Your user type, by augmentation: `interface SessionUserMap { user: MyUser }`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the application through augmentation
export interface SessionUserMap {}

/** The data type of `ctx.session`. */
export type KoaSessionData = SessionDataMap & SessionData
/** The type of `await ctx.state.user`. */
export type KoaSessionUser = SessionUserMap extends { user: infer U extends AuthUser } ? U : AuthUser

declare module 'koa' {
  interface DefaultState {
    /** The logged-in user, loaded on first `await ctx.state.user` (or `.get()`), once per request. */
    user: LazyUser<KoaSessionUser>
  }
  interface DefaultContext {
    /** This request's session; loads on first read, commits after the downstream middleware. */
    session: Session<KoaSessionData>
    /** Logs `user` in: new session id, Django's auth keys. */
    login(user: KoaSessionUser): Promise<void>
    /** Logs out: the session is deleted and its cookie cleared. */
    logout(): void
    /** A fresh realtime ticket, set by `realtimeTicket()`; `null` without user or store. */
    realtimeTicket: string | null
  }
}

/** Options of the middleware: the core session options plus where users come from. */
export interface KoaSessionOptions extends SessionManagerOptions {
  /** Where `ctx.state.user`, `ctx.login()` and the Basic guards find users. @default undefined (no users) */
  users?: UserSource<KoaSessionUser>
}

const states = new WeakMap<object, RequestAuth<KoaSessionUser, KoaSessionData>>()

/** The per-request auth state; throws when the session middleware did not run first. */
export function authOf(ctx: Context): RequestAuth<KoaSessionUser, KoaSessionData> {
  const auth = states.get(ctx)
  if (!auth) throw new Error('[sessionbridge/koa] the session middleware must run before this one')
  return auth
}

const appendCookie = (headers: Record<string, unknown>, cookie: string) => {
  const current = headers['set-cookie']
  headers['set-cookie'] = Array.isArray(current)
    ? [...current, cookie]
    : current
      ? [String(current), cookie]
      : [cookie]
}

/**
 * The sessionbridge middleware for Koa: `ctx.session`, `ctx.state.user`, `ctx.login()`,
 * `ctx.logout()`. Commits after `await next()`, also when downstream throws; then the handler's
 * error still wins, and the cookie rides on it (`err.headers`) because Koa drops other headers.
 * Misconfiguration throws `SessionConfigError` here, at startup.
 */
export function sessionMiddleware(options: KoaSessionOptions): Middleware {
  const { users, ...sessionOptions } = options ?? ({} as KoaSessionOptions)
  const manager = createSessionManager<KoaSessionData>(sessionOptions as SessionManagerOptions, 'koa')
  const source = checkUserSource(users, 'koa')

  return async function sessionbridge(ctx: Context, next: Next) {
    const cookieHeader = ctx.get('cookie')
    const transport = { protocol: ctx.protocol, forwardedProto: ctx.get('x-forwarded-proto') }
    const session = manager.mayCarrySession(cookieHeader)
      ? await manager.open({ cookie: cookieHeader, ...transport })
      : manager.openWithoutCookie(transport)
    const auth = new RequestAuth<KoaSessionUser, KoaSessionData>(session, source, 'koa')
    states.set(ctx, auth)
    ctx.session = session
    ctx.state.user = auth.user
    ctx.login = (user) => auth.login(user)
    ctx.logout = () => auth.logout()
    ctx.realtimeTicket = null

    let failure: { error: unknown } | null = null
    try {
      await next()
    } catch (error) {
      failure = { error }
    }
    let cookie: string | null = null
    try {
      if (!session.untouched) cookie = (await session.commit()).setCookie
    } catch (commitError) {
      if (!failure) throw commitError
      // Never hide the handler's error behind ours.
      manager.options.logger.warn(
        `[sessionbridge/koa] commit after a failed request: ${(commitError as Error).message}`,
      )
    }
    if (failure) {
      const { error } = failure
      if (cookie !== null && error !== null && typeof error === 'object') {
        const carrier = error as { headers?: Record<string, unknown> }
        carrier.headers = { ...carrier.headers }
        appendCookie(carrier.headers, cookie)
      }
      throw error
    }
    if (cookie !== null && !ctx.headerSent) ctx.append('Set-Cookie', cookie)
  }
}
