import type { AuthUser, LazyUser, Session, SessionData } from '@sessionbridge/core'
import { type RequestSession, type SessionErrorAnswer, sessionErrorAnswer } from '@sessionbridge/core/adapter'
import type { Context, MiddlewareHandler, Next } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { type Binding, bindSessions, commitFailed, type HonoSessionOptions } from './binding.ts'
import { fetchHolderOf } from './fetch.ts'
import { accessOf, type SessionAccess, type SessionHolder } from './holder.ts'
import {
  appendCookies,
  checkInput,
  header,
  isDefaultErrorAnswer,
  isSecure,
  textAnswer,
} from './request-io.ts'

/** What the middleware puts on the context: `c.get('session')`, `c.get('user')`, ... */
export interface SessionVariables<Data extends SessionData = SessionData, User extends AuthUser = AuthUser> {
  /** See `SessionAccess`: the session, the user, the auth steps. */
  session: Session<Data>
  user: LazyUser<User>
  login: SessionAccess<Data, User>['login']
  logout: SessionAccess<Data, User>['logout']
  authenticate: SessionAccess<Data, User>['authenticate']
  csrfToken: SessionAccess<Data, User>['csrfToken']
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

const kRequest = Symbol('sessionbridge.request')
const NO_COOKIES: readonly string[] = []
/**
 * What the middleware keeps on a request's context, under one key: each key added to Hono's
 * `Context` is a map transition of its own (a megamorphic store apiece, on every request).
 */
class RequestSlot implements SessionHolder {
  binding: Binding
  state: RequestSession | null
  /** The context's own `get`, which `sessionGet` stands in front of. */
  readonly get: Context['get']
  readonly #c: Context
  access: SessionAccess | null = null
  constructor(binding: Binding, c: Context, state: RequestSession | null) {
    this.binding = binding
    this.state = state
    this.get = c.get
    this.#c = c
  }
  /** Asked only when a cookie is written (see core's `SessionStart.secure`): no closure a request. */
  get secure(): boolean {
    return isSecure(this.#c, this.binding.trustProxy)
  }
  open(): RequestSession {
    this.state ??= this.binding.driver.open(undefined, this)
    return this.state
  }
  header(name: string): string | undefined {
    return header(this.#c, name)
  }
  clientAddress(): string | null | undefined {
    return this.binding.clientAddress(this.#c)
  }
}
type Carrier = Context & { [kRequest]?: RequestSlot; then?: undefined }

/** A context's holder: the middleware's, else `sessionFetch`'s; `undefined` when neither runs it. */
const holderOf = (c: Context): SessionHolder | undefined => (c as Carrier)[kRequest] ?? fetchHolderOf(c)

function requireHolder(c: Context): SessionHolder {
  const holder = holderOf(c)
  if (!holder)
    throw new Error('[sessionbridge/hono] the session middleware or sessionFetch must run before this')
  return holder
}

/**
 * A request's session, user and auth steps, under `sessionFetch` or the middleware (which also
 * gives them as `c.get(...)`). Throws when neither runs the request.
 */
export function sessionOf<Data extends SessionData = SessionData, User extends AuthUser = AuthUser>(
  c: Context,
): SessionAccess<Data, User> {
  return accessOf(requireHolder(c)) as unknown as SessionAccess<Data, User>
}

/** The per-request state behind `sessionOf` (opened on first use), for guards and adapters. */
export function stateOf<User extends AuthUser = AuthUser, Data extends SessionData = SessionData>(
  c: Context,
): RequestSession<User, Data> {
  return requireHolder(c).open() as unknown as RequestSession<User, Data>
}

/** The configured client address of a context's request (the guards' throttle rule). */
export const clientAddressOf = (c: Context): string | null | undefined => holderOf(c)?.clientAddress()

/**
 * `c.get` of a context the middleware ran on: the session's variables are made on first read (a
 * request that never reads them costs no object and no `c.set`); other keys are Hono's own.
 */
function sessionGet(this: Carrier, key: string): unknown {
  const slot = this[kRequest]!
  switch (key) {
    case 'session':
      return slot.open().session
    case 'user':
      return slot.open().user
    case 'sessionState':
      return slot.open()
    case 'login': {
      const access = accessOf(slot)
      return (user: AuthUser) => access.login(user)
    }
    case 'logout': {
      const access = accessOf(slot)
      return () => access.logout()
    }
    case 'authenticate': {
      const access = accessOf(slot)
      return (username: string, password: string) => access.authenticate(username, password)
    }
    case 'csrfToken': {
      const access = accessOf(slot)
      return () => access.csrfToken()
    }
    case 'clientAddress':
      return slot.binding.clientAddress
    case 'realtimeTicket':
      return slot.get(key) ?? null
    default:
      return slot.get(key as never)
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
  const binding = bindSessions<User, Data>(options)
  const { driver } = binding

  /** After the handlers: the commit (when the session changed), then the response's cookies. */
  const afterHandlers = (c: Context, slot: RequestSlot): Promise<void> | undefined => {
    const { state } = slot
    if (state === null || state.settled) return respond(c, NO_COOKIES)
    return state.finishThen(
      (cookies) => respond(c, cookies),
      (error) => {
        const answer = commitFailed(binding, error)
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
        commitFailed(binding, error)
        throw failure
      },
    )
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
  if (await isDefaultErrorAnswer(c.res)) c.res = textAnswer(answer.status, answer.body)
  if (cookies.length > 0) appendCookies(c, cookies)
}
