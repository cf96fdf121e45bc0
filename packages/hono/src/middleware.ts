import {
  type AuthUser,
  checkUserSource,
  createSessionManager,
  type LazyUser,
  RequestAuth,
  type Session,
  SessionBackendError,
  type SessionData,
  type SessionManagerOptions,
  type UserSource,
} from '@sessionbridge/core'
import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'

/** What the middleware puts on the context: `c.get('session')`, `c.get('user')`, ... */
export interface SessionVariables<Data extends SessionData = SessionData, User extends AuthUser = AuthUser> {
  /** This request's session; loads on first read, commits after the downstream handlers. */
  session: Session<Data>
  /** The logged-in user, loaded on first `await c.get('user')` (or `.get()`), once per request. */
  user: LazyUser<User>
  /** Logs `user` in: new session id, Django's auth keys. */
  login: (user: User) => Promise<void>
  /** Logs out: the session is deleted and its cookie cleared. */
  logout: () => void
  /** A fresh realtime ticket, set by `realtimeTicket()`; `null` without user or store. */
  realtimeTicket: string | null
}

/** The Hono `Env` of an app using sessions: `new Hono<SessionEnv<MyData, MyUser>>()`. */
export interface SessionEnv<Data extends SessionData = SessionData, User extends AuthUser = AuthUser> {
  Variables: SessionVariables<Data, User>
}

/** Options of the middleware: the core session options plus where users come from. */
export interface HonoSessionOptions<User extends AuthUser = AuthUser> extends SessionManagerOptions {
  /** Where `c.get('user')`, `login()` and the Basic guards find users. @default undefined (no users) */
  users?: UserSource<User>
}

const states = new WeakMap<object, RequestAuth<AuthUser, SessionData>>()

/** The per-request auth state; throws when the session middleware did not run first. */
export function authOf<User extends AuthUser = AuthUser, Data extends SessionData = SessionData>(
  c: Context,
): RequestAuth<User, Data> {
  const auth = states.get(c)
  if (!auth) throw new Error('[sessionbridge/hono] the session middleware must run before this one')
  // The middleware stored it with the app's own types; the map cannot remember them.
  return auth as unknown as RequestAuth<User, Data>
}

type NodeBindings = { incoming?: { headers?: Record<string, string | string[] | undefined> } }

/**
 * A request header. On `@hono/node-server` the Node request is `c.env.incoming`: reading its parsed
 * headers directly spares building a `Headers` object on every request. Elsewhere: Web APIs.
 */
function header(c: Context, name: 'cookie' | 'x-forwarded-proto'): string | undefined {
  const headers = (c.env as NodeBindings | undefined)?.incoming?.headers
  if (headers && typeof headers === 'object') {
    const value = headers[name]
    return Array.isArray(value) ? value[0] : value
  }
  return c.req.header(name)
}

const unavailable = (cause: unknown) => new HTTPException(503, { message: 'Service Unavailable', cause })

/**
 * The sessionbridge middleware for Hono, on Node and on edge runtimes (Web APIs only). Commits in
 * `finally`; a `SessionBackendError` becomes 503. Misconfiguration throws `SessionConfigError`
 * here, at startup.
 */
export function sessionMiddleware<Data extends SessionData = SessionData, User extends AuthUser = AuthUser>(
  options: HonoSessionOptions<User>,
): MiddlewareHandler<SessionEnv<Data, User>> {
  const { users, ...sessionOptions } = options ?? ({} as HonoSessionOptions<User>)
  const manager = createSessionManager<Data>(sessionOptions as SessionManagerOptions, 'hono')
  const source = checkUserSource(users, 'hono')

  return async function sessionbridge(c, next) {
    const cookieHeader = header(c, 'cookie')
    const transport = {
      protocol: c.req.url.startsWith('https:') ? 'https' : 'http',
      forwardedProto: header(c, 'x-forwarded-proto'),
    }
    const session = manager.mayCarrySession(cookieHeader)
      ? await manager.open({ cookie: cookieHeader, ...transport })
      : manager.openWithoutCookie(transport)
    const auth = new RequestAuth<User, Data>(session, source, 'hono')
    states.set(c, auth as unknown as RequestAuth<AuthUser, SessionData>)
    c.set('session', session)
    c.set('user', auth.user)
    c.set('login', (user: User) => auth.login(user))
    c.set('logout', () => auth.logout())
    c.set('realtimeTicket', null)
    let failure: { error: unknown } | null = null
    try {
      await next()
    } catch (error) {
      // Hono hands Error throws to onError itself; only other values (or a rethrowing onError) land here.
      failure = { error }
    }
    let cookie: string | null = null
    try {
      if (!session.untouched) cookie = (await session.commit()).setCookie
    } catch (error) {
      // A failure of ours must not replace the handler's own error response.
      if (!failure && !c.error) throw error instanceof SessionBackendError ? unavailable(error) : error
      manager.options.logger.warn(
        `[sessionbridge/hono] commit after a failed request: ${(error as Error).message}`,
      )
    }
    if (failure) throw failure.error
    // The handler's store failure went to onError, which answers 500 unless told otherwise.
    if (c.error instanceof SessionBackendError && c.res.status === 500) {
      c.res = unavailable(c.error).getResponse()
    }
    if (cookie !== null) {
      try {
        // In place: c.header() would rebuild the response around its body stream, which costs
        // @hono/node-server its fast path for plain bodies.
        c.res.headers.append('Set-Cookie', cookie)
      } catch {
        c.header('Set-Cookie', cookie, { append: true }) // immutable headers (Response.redirect, fetch)
      }
    }
  }
}
