import type { AuthUser, LazyUser, Session, SessionData } from '@sessionbridge/core'
import {
  type RequestSession,
  SessionDriver,
  type SessionDriverOptions,
  sessionErrorAnswer,
} from '@sessionbridge/core/adapter'
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express'

/** Your session's data type: `declare module '@sessionbridge/express' { interface SessionDataMap { n: number } }`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the application through augmentation
export interface SessionDataMap {}
/** Your user type, by augmentation: `interface SessionUserMap { user: MyUser }`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the application through augmentation
export interface SessionUserMap {}
export type ExpressSessionData = SessionDataMap & SessionData
export type ExpressSessionUser = SessionUserMap extends { user: infer U extends AuthUser } ? U : AuthUser
type State = RequestSession<ExpressSessionUser, ExpressSessionData>

declare global {
  namespace Express {
    interface Request {
      /** This request's session; loads on first read, commits before the response's first byte. */
      session: Session<ExpressSessionData>
      /** The logged-in user, loaded on first `await req.user` (or `.get()`), once per request. */
      user: LazyUser<ExpressSessionUser>
      login(user: ExpressSessionUser): Promise<void>
      logout(): void
      /** A fresh realtime ticket, set by `realtimeTicket()`; `null` without user or store. */
      realtimeTicket: string | null
    }
  }
}

/** Options: core's session options plus `users` and `tickets`; Express's `trust proxy` decides HTTPS. */
export type ExpressSessionOptions = Omit<SessionDriverOptions<ExpressSessionUser>, 'trustProxy'>

const kState = Symbol('sessionbridge.state')
const kDriver = Symbol('sessionbridge.driver')
const kNext = Symbol('sessionbridge.next')
const kSend = Symbol('sessionbridge.send')
type Carrier = { [kState]?: State; [kDriver]?: SessionDriver<ExpressSessionUser, ExpressSessionData> }
type Sending = Response & {
  [kSend]?: { end: Response['end']; write: Response['write']; queue: unknown[][] | null }
}

/** The per-request session state; throws when the session middleware did not run first. */
export function stateOf(req: Request): State {
  const carrier = req as Request & Carrier
  if (carrier[kState]) return carrier[kState]
  if (!carrier[kDriver])
    throw new Error('[sessionbridge/express] the session middleware must run before this one')
  carrier[kState] = carrier[kDriver].open(undefined, req.protocol === 'https')
  return carrier[kState]
}

// Shared accessors and functions, so a request costs no closures.
const accessors: PropertyDescriptorMap = {
  session: {
    configurable: true,
    get: function (this: Request) {
      return stateOf(this).session
    },
  },
  user: {
    configurable: true,
    enumerable: true,
    get: function (this: Request) {
      return stateOf(this).user
    },
  },
}
function login(this: Request, user: ExpressSessionUser) {
  return stateOf(this).login(user)
}
function logout(this: Request) {
  stateOf(this).logout()
}
function end(this: Sending, ...args: unknown[]) {
  return gate(this, 'end', args)
}
function write(this: Sending, ...args: unknown[]) {
  gate(this, 'write', args)
  return true
}

/** A commit failure (or a header Node refuses) goes to Express's error handling, never escapes. */
function fail(res: Sending, error: unknown): void {
  try {
    ;(res.req as Request & { [kNext]: NextFunction })[kNext](error)
  } catch (again) {
    res.destroy(again as Error)
  }
}

/** The first `write`/`end` of a response whose session was used: commit, set the cookie, then send. */
function gate(res: Sending, method: 'end' | 'write', args: unknown[]): Sending {
  const send = res[kSend]!
  if (send.queue) send.queue.push([method, ...args])
  else {
    const state = (res.req as Request & Carrier)[kState]
    res.end = send.end
    res.write = send.write
    if (!state || state.untouched) return (send[method] as (...a: unknown[]) => Sending).apply(res, args)
    send.queue = [[method, ...args]]
    state.finish().then(
      (cookies) => {
        if (!res.headersSent) for (const cookie of cookies) res.append('Set-Cookie', cookie)
        try {
          for (const [m, ...a] of send.queue!) (res[m as 'end'] as (...x: unknown[]) => unknown)(...a)
        } catch (error) {
          fail(res, error)
        }
      },
      (error: unknown) => fail(res, error),
    )
  }
  return res
}

/**
 * The sessionbridge middleware for Express 5: `req.session`, `req.user`, `req.login()`, `req.logout()`.
 * Misconfiguration throws `SessionConfigError` here, at startup.
 */
export function sessionMiddleware(options: ExpressSessionOptions): RequestHandler {
  const driver = new SessionDriver<ExpressSessionUser, ExpressSessionData>(options, {
    package: 'express',
    frameworkProxyTrust: true,
  })
  return function sessionbridge(req, res, next) {
    const carrier = req as Request & Carrier & { [kNext]: NextFunction }
    Object.defineProperties(req, accessors)
    req.login = login
    req.logout = logout
    req.realtimeTicket = null
    carrier[kDriver] = driver
    carrier[kNext] = next
    ;(res as Sending)[kSend] = { end: res.end, write: res.write, queue: null }
    res.end = end as Response['end']
    res.write = write as Response['write']
    const cookie = req.headers.cookie
    if (driver.manager.mayCarrySession(cookie))
      carrier[kState] = driver.open(cookie, req.protocol === 'https')
    const proceed = () => (driver.checks ? check(req, res, next) : next())
    const verifying = carrier[kState]?.start()
    if (verifying) verifying.then(proceed, next)
    else proceed()
  }
}

function check(req: Request, res: Response, next: NextFunction): void {
  const input = {
    method: req.method,
    header: (name: string) => req.get(name),
    formField: (name: string) => {
      const value = (req.body as Record<string, unknown> | undefined)?.[name]
      return typeof value === 'string' ? value : undefined
    },
  }
  stateOf(req)
    .check(input)
    .then((answer) => {
      if (!answer) return next()
      res
        .status(answer.status)
        .set(answer.headers ?? {})
        .send(answer.body)
    }, next)
}

/** Error middleware (mount it last): session errors answer 503/409 with a generic body, others pass on. */
export function sessionErrorHandler(): ErrorRequestHandler {
  return (error, _req, res, next) => {
    const answer = sessionErrorAnswer(error)
    if (!answer || res.headersSent) return next(error)
    res.status(answer.status).type('text/plain; charset=utf-8').send(answer.body)
  }
}
