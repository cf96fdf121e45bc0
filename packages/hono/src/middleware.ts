import type { AuthenticateResult, AuthUser, LazyUser, Session, SessionData } from '@sessionbridge/core'
import { SessionConfigError } from '@sessionbridge/core'
import {
  type RequestSession,
  SessionDriver,
  type SessionDriverOptions,
  type SessionErrorAnswer,
  sessionErrorAnswer,
} from '@sessionbridge/core/adapter'
import type { Context, MiddlewareHandler, Next } from 'hono'
import { HTTPException } from 'hono/http-exception'
import {
  appendCookies,
  checkInput,
  header,
  isDefaultErrorAnswer,
  isSecure,
  socketAddress,
} from './request-io.ts'

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
  /**
   * Checks credentials through the `throttle` and `users` (Django's `authenticate`; the client
   * address from `clientAddress`): `ok` with the user, `invalid`, or `throttled` (answer 429).
   */
  authenticate: (username: string, password: string) => Promise<AuthenticateResult<User>>
  /** A CSRF token for a form or a header; sends the `csrftoken` cookie (needs the `csrf` option). */
  csrfToken: () => Promise<string>
  /** A fresh realtime ticket, set by `realtimeTicket()`; `null` without user or store. */
  realtimeTicket: string | null
  /** The per-request state behind the others (guards and the ticket route use it). */
  sessionState: RequestSession<User, Data>
  /** The configured client-address reader (the guards use it). */
  clientAddress: (c: Context) => string | null | undefined
}

/** The Hono `Env` of an app using sessions: `new Hono<SessionEnv<MyData, MyUser>>()`. */
export interface SessionEnv<Data extends SessionData = SessionData, User extends AuthUser = AuthUser> {
  Variables: SessionVariables<Data, User>
}

/** Options of the middleware: the core session options plus `users` and `tickets`. */
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

const kRequest = Symbol('sessionbridge.request')
const NO_COOKIES: readonly string[] = []
/** What one `sessionMiddleware()` shares with its requests (made once). */
interface Binding {
  driver: SessionDriver<AuthUser, SessionData>
  trustProxy: boolean
  clientAddress: (c: Context) => string | null | undefined
}
/**
 * What the middleware keeps on a request's context, under one key: each key added to Hono's
 * `Context` is a map transition of its own (a megamorphic store apiece, on every request). It is
 * also what the session asks whether the request is HTTPS (when it writes a cookie): no closure a
 * request.
 */
class RequestSlot {
  binding: Binding
  /** The context's own `get`, which `sessionGet` stands in front of. */
  readonly get: Context['get']
  state: RequestSession | null
  readonly #c: Context
  constructor(binding: Binding, c: Context, state: RequestSession | null) {
    this.binding = binding
    this.get = c.get
    this.state = state
    this.#c = c
  }
  get secure(): boolean {
    return isSecure(this.#c, this.binding.trustProxy)
  }
}
type Carrier = Context & { [kRequest]?: RequestSlot; then?: undefined }

/** The per-request session state (opened on first use); throws when the session middleware did not run first. */
export function stateOf<User extends AuthUser = AuthUser, Data extends SessionData = SessionData>(
  c: Context,
): RequestSession<User, Data> {
  const slot = (c as Carrier)[kRequest]
  if (!slot) throw new Error('[sessionbridge/hono] the session middleware must run before this one')
  if (!slot.state) slot.state = slot.binding.driver.open(undefined, isSecure(c, slot.binding.trustProxy))
  return slot.state as unknown as RequestSession<User, Data>
}

/**
 * `c.get` of a context the middleware ran on: the session's variables are made on first read (a
 * request that never reads them costs no object and no `c.set`); other keys are Hono's own.
 */
function sessionGet(this: Carrier, key: string): unknown {
  switch (key) {
    case 'session':
      return stateOf(this).session
    case 'user':
      return stateOf(this).user
    case 'sessionState':
      return stateOf(this)
    case 'login': {
      const state = stateOf(this)
      return (user: AuthUser) => state.login(user)
    }
    case 'logout': {
      const state = stateOf(this)
      return () => state.logout()
    }
    case 'authenticate': {
      const state = stateOf(this)
      const address = this[kRequest]!.binding.clientAddress(this)
      return (username: string, password: string) => state.authenticate({ username, password }, address)
    }
    case 'csrfToken': {
      const state = stateOf(this)
      const cookie = header(this, 'cookie')
      return () => state.csrfToken(cookie)
    }
    case 'clientAddress':
      return this[kRequest]!.binding.clientAddress
    case 'realtimeTicket':
      return this[kRequest]!.get(key) ?? null
    default:
      return this[kRequest]!.get(key as never)
  }
}

/**
 * The sessionbridge middleware for Hono, on Node and on edge runtimes (Web APIs only). Commits after
 * the handlers; a session error becomes 503 (or 409) with a generic body through Hono's `onError`.
 * Misconfiguration throws `SessionConfigError` here, at startup.
 */
export function sessionMiddleware<Data extends SessionData = SessionData, User extends AuthUser = AuthUser>(
  options: HonoSessionOptions<User>,
): MiddlewareHandler<SessionEnv<Data, User>> {
  const {
    trustProxy = false,
    clientAddress = socketAddress,
    ...driverOptions
  } = options ?? ({} as HonoSessionOptions<User>)
  if (typeof clientAddress !== 'function') {
    throw new SessionConfigError('hono', 'clientAddress', '%s must be a function (c) => string | null')
  }
  const driver = new SessionDriver<User, Data>(driverOptions, { package: 'hono', frameworkProxyTrust: false })
  const { logger } = driver.manager.options

  const binding: Binding = {
    driver: driver as unknown as SessionDriver<AuthUser, SessionData>,
    trustProxy,
    clientAddress: clientAddress as Binding['clientAddress'],
  }

  /** After the handlers: the commit (when the session changed), then the response's cookies. */
  const afterHandlers = (c: Context, slot: RequestSlot): Promise<void> | undefined => {
    const { state } = slot
    if (state === null || state.settled) return respond(c, NO_COOKIES)
    return state.finishThen(
      (cookies) => respond(c, cookies),
      (error) => {
        const answer = commitFailed(error)
        // A failure of ours must not replace the handler's own error response.
        if (c.error) return respond(c, NO_COOKIES)
        throw answer ? new HTTPException(answer.status, { message: answer.body, cause: error }) : error
      },
    )
  }
  /** After handlers that threw (not an `Error`, or a rethrowing `onError`): commit, then rethrow. */
  const afterFailure = (slot: RequestSlot, failure: unknown): Promise<never> => {
    const { state } = slot
    if (state === null || state.settled) return Promise.reject(failure)
    return state.finish().then(
      () => {
        throw failure
      },
      (error) => {
        commitFailed(error)
        throw failure
      },
    )
  }
  const commitFailed = (error: unknown) => {
    logger.warn(`[sessionbridge/hono] commit failed: ${(error as Error)?.message}`)
    return sessionErrorAnswer(error)
  }
  /** The handlers, then the commit: no `async` frame of its own (an await, a reaction fewer). */
  const around = (c: Context, next: Next, slot: RequestSlot): Promise<void> => {
    let handled: Promise<unknown>
    try {
      handled = driver.checks ? checkedNext(c, next) : next()
    } catch (error) {
      handled = Promise.reject(error)
    }
    return handled.then(
      () => afterHandlers(c, slot),
      (error: unknown) => afterFailure(slot, error),
    )
  }

  return function sessionbridge(c, next) {
    const carrier = c as unknown as Carrier
    let slot = carrier[kRequest]
    if (slot === undefined || carrier.get !== sessionGet) {
      slot = new RequestSlot(binding, c, slot?.state ?? null)
      carrier[kRequest] = slot
      carrier.get = sessionGet as Context['get']
      // Hono's compose resolves a promise with the context at the end of each middleware, which
      // looks `then` up through `Context.prototype` and `Object.prototype`; found on the context,
      // `undefined`, the promise is fulfilled at once, as without it.
      // biome-ignore lint/suspicious/noThenProperty: `undefined`, so the context is never a thenable
      carrier.then = undefined
    } else slot.binding = binding
    const cookie = header(c, 'cookie')
    if (driver.manager.mayCarrySession(cookie)) {
      // HTTPS is asked only when a cookie is written (see SessionStart.secure).
      const opened = driver.open(cookie, slot)
      slot.state = opened as unknown as RequestSession
      // A signature verified before needs no promise: no tick on a returning visitor.
      const verifying = opened.start()
      if (verifying) {
        const verified = slot
        return verifying.then(() => around(c, next, verified))
      }
    }
    return around(c, next, slot)
  }
}

/** The CSRF checks' answer instead of the handlers', or the handlers. */
async function checkedNext(c: Context, next: Next): Promise<void> {
  const answer = await stateOf(c).check(checkInput(c))
  if (answer) c.res = new Response(answer.body, { status: answer.status, headers: answer.headers })
  else await next()
}

/**
 * The cookies on the response; a handler's session error (it went to `onError`) answered 503 or
 * 409 in place of Hono's default answer only.
 */
function respond(c: Context, cookies: readonly string[]): Promise<void> | undefined {
  const answer = sessionErrorAnswer(c.error)
  if (answer) return replaceDefaultAnswer(c, answer, cookies)
  if (cookies.length > 0) appendCookies(c, cookies)
  return undefined
}

async function replaceDefaultAnswer(
  c: Context,
  answer: SessionErrorAnswer,
  cookies: readonly string[],
): Promise<void> {
  if (await isDefaultErrorAnswer(c.res)) {
    c.res = new Response(answer.body, {
      status: answer.status,
      headers: { 'content-type': 'text/plain; charset=UTF-8' },
    })
  }
  if (cookies.length > 0) appendCookies(c, cookies)
}
