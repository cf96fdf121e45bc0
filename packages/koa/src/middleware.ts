import type { AuthenticateResult, AuthUser, Session, SessionData } from '@sessionbridge/core'
import {
  bodyField,
  type RequestSession,
  SessionDriver,
  type SessionDriverOptions,
  sessionMembers,
} from '@sessionbridge/core/adapter'
import type { Context, Middleware, Next } from 'koa'
import { ForwardingUser, type StateAccess, type StateUser } from './state-user.ts'

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
type State = RequestSession<KoaSessionUser, KoaSessionData>
type Driver = SessionDriver<KoaSessionUser, KoaSessionData>

declare module 'koa' {
  interface DefaultState {
    /** The logged-in user, loaded on first `await ctx.state.user` (or `.get()`), once per request. */
    user: StateUser<KoaSessionUser>
  }
  interface DefaultContext {
    /** This request's session; loads on first read, commits after the downstream middleware. */
    get session(): Session<KoaSessionData>
    /** `ctx.session = null` destroys the session, as with koa-session (the same as `ctx.logout()`). */
    set session(value: null)
    /** Logs `user` in: new session id, Django's auth keys. */
    login(user: KoaSessionUser): Promise<void>
    /** Logs out: the session is deleted and its cookie cleared. */
    logout(): void
    /**
     * Checks credentials through the `throttle` and `users` (Django's `authenticate`; the client
     * address is `ctx.ip`): `ok` with the user, `invalid`, or `throttled` (answer 429).
     */
    authenticate(username: string, password: string): Promise<AuthenticateResult<KoaSessionUser>>
    /** A CSRF token for a form or a header; sends the `csrftoken` cookie (needs the `csrf` option). */
    csrfToken(): Promise<string>
    /** A fresh realtime ticket, set by `realtimeTicket()`; `null` without user or store. */
    realtimeTicket: string | null
  }
}

/**
 * Options of the middleware: the core session options plus `users` and `tickets`. HTTPS (for
 * `cookie.secure: 'auto'`) is `ctx.protocol`, so Koa's own `app.proxy` decides.
 */
export type KoaSessionOptions = Omit<SessionDriverOptions<KoaSessionUser>, 'trustProxy'>

const kState = Symbol('sessionbridge.state')
const kDriver = Symbol('sessionbridge.driver')
const kContext = Symbol('sessionbridge.context')
type Carrier = { [kState]?: State; [kDriver]?: Driver }

/** The per-request session state; throws when the session middleware did not run first. */
export function stateOf(ctx: Context): State {
  const carrier = ctx as Carrier
  if (carrier[kState]) return carrier[kState]
  const driver = carrier[kDriver]
  if (!driver) throw new Error('[sessionbridge/koa] the session middleware must run before this one')
  // A request without a session cookie gets its state on first use.
  carrier[kState] = driver.open(undefined, ctx.protocol === 'https')
  return carrier[kState]
}

// Shared by every request, no closures per request: how `ctx.state.user` reaches its request's state,
// and the accessors on `app.context`.
const stateAccess: StateAccess<KoaSessionUser> = {
  state: stateOf,
  peek: (ctx) => (ctx as Carrier)[kState],
}
const {
  user: _user,
  session,
  ...members
} = sessionMembers<Context>({
  state: stateOf,
  address: (ctx) => ctx.ip,
  cookie: (ctx) => ctx.headers.cookie,
})
const contextAccessors: PropertyDescriptorMap = {
  ...members,
  session: {
    ...session,
    set(this: Context, value: unknown) {
      if (value !== null) throw new TypeError('[sessionbridge/koa] ctx.session can only be set to null')
      stateOf(this).logout()
    },
  },
  [kContext]: { value: true },
  // Null until `realtimeTicket()` sets it on the request: nothing to assign per request.
  realtimeTicket: { value: null, writable: true },
}

const appendCookies = (error: unknown, cookies: readonly string[]) => {
  if (cookies.length === 0 || error === null || typeof error !== 'object') return
  // Koa drops the response's headers on error but sets `err.headers`: the cookie rides on it.
  const carrier = error as { headers?: Record<string, unknown> }
  const current = carrier.headers?.['set-cookie']
  const before = Array.isArray(current) ? current : current ? [String(current)] : []
  carrier.headers = { ...carrier.headers, 'set-cookie': [...before, ...cookies] }
}

/**
 * The sessionbridge middleware for Koa: `ctx.session`, `ctx.state.user`, `ctx.login()`,
 * `ctx.logout()`. Commits after `await next()`, also when downstream throws (the handler's error
 * wins); a commit failure is thrown into Koa's error handling (503, generic body). Misconfiguration
 * throws `SessionConfigError` here, at startup.
 */
export function sessionMiddleware(options: KoaSessionOptions): Middleware {
  const driver: Driver = new SessionDriver(options as SessionDriverOptions<KoaSessionUser>, {
    package: 'koa',
    frameworkProxyTrust: true,
  })

  return async function sessionbridge(ctx: Context, next: Next) {
    // The accessors go on `app.context` (every request's prototype) once; `in` finds the marker
    // through one cached lookup, where `Object.getPrototypeOf` was a runtime call per request.
    if (!(kContext in ctx)) Object.defineProperties(Object.getPrototypeOf(ctx) as object, contextAccessors)
    const carrier = ctx as Carrier
    carrier[kDriver] = driver
    ctx.state.user = new ForwardingUser<KoaSessionUser>(ctx, stateAccess)
    const cookie = ctx.headers.cookie
    if (driver.manager.mayCarrySession(cookie)) {
      // HTTPS is asked only when a cookie is written (see SessionStart.secure).
      const state = driver.open(cookie, () => ctx.protocol === 'https')
      carrier[kState] = state
      // A signature verified before needs no promise: no await (a tick) on a returning visitor.
      const verifying = state.start()
      if (verifying) await verifying
    }

    let failure: { error: unknown } | null = null
    try {
      const answer = driver.checks ? await stateOf(ctx).check(checkInput(ctx)) : null
      if (answer) {
        ctx.status = answer.status
        ctx.set(answer.headers ?? {})
        ctx.body = answer.body
      } else await next()
    } catch (error) {
      failure = { error }
    }
    const state = carrier[kState]
    let cookies: readonly string[] = []
    if (state && !state.settled) {
      try {
        cookies = await state.finish()
      } catch (commitError) {
        if (!failure) throw commitError
        // Never hide the handler's error behind ours.
        driver.manager.options.logger.warn(
          `[sessionbridge/koa] commit after a failed request: ${(commitError as Error).message}`,
        )
      }
    }
    if (failure) {
      appendCookies(failure.error, cookies)
      throw failure.error
    }
    if (cookies.length > 0 && !ctx.headerSent) ctx.append('Set-Cookie', [...cookies])
  }
}

// The form field comes from a body parser that ran before this middleware (`ctx.request.body`, an
// object, or a raw urlencoded string); without one, clients send the token header.
const checkInput = (ctx: Context) => ({
  method: ctx.method,
  path: ctx.path,
  header: (name: string) => ctx.get(name) || undefined,
  formField: (name: string) =>
    bodyField((ctx.request as { body?: unknown }).body, ctx.get('content-type'), name),
})
