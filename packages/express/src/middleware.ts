import type { AuthenticateResult, AuthUser, LazyUser, Session, SessionData } from '@sessionbridge/core'
import {
  bodyField,
  type RequestSession,
  RequestSlot,
  ResponseGate,
  SessionDriver,
  type SessionDriverOptions,
  sessionErrorAnswer,
  sessionMembers,
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

declare global {
  namespace Express {
    interface Request {
      /** This request's session; loads on first read, commits before the response's first byte. */
      session: Session<ExpressSessionData>
      /** The logged-in user, loaded on first `await req.user` (or `.get()`), once per request. */
      user: LazyUser<ExpressSessionUser>
      login(user: ExpressSessionUser): Promise<void>
      logout(): void
      /** Django's `authenticate` through `throttle` and `users`, the client address `req.ip`. */
      authenticate(username: string, password: string): Promise<AuthenticateResult<ExpressSessionUser>>
      /** A CSRF token for a form or a header; sends the `csrftoken` cookie (needs the `csrf` option). */
      csrfToken(): Promise<string>
      /** A fresh realtime ticket, set by `realtimeTicket()`; `null` without user or store. */
      realtimeTicket: string | null
    }
  }
}

/** Options: core's session options plus `users`, `tickets`, `csrf`, ...; Express's `trust proxy` decides HTTPS. */
export type ExpressSessionOptions = Omit<SessionDriverOptions<ExpressSessionUser>, 'trustProxy'>

const slot = new RequestSlot<Request, ExpressSessionUser, ExpressSessionData>(
  'express',
  (req) => req.protocol === 'https',
)
/** The per-request session state; throws when the session middleware did not run first. */
export function stateOf(req: Request): RequestSession<ExpressSessionUser, ExpressSessionData> {
  const opened = slot.opened(req)
  if (opened) return opened
  // The first use of the session holds the response until its commit.
  gate.hold(req.res!, rootApp(req, req.res)?.response)
  return slot.of(req)
}
// A commit failure (or a header Node refuses) goes to Express's error handling, through the
// `next` the middleware was given (kept in the slot).
// A request whose entry stayed at home (no cookie) has no `next` kept: Express's own `req.next`
// (the router's, as `res.render` uses it) then.
const gate = new ResponseGate<Response>(
  (res) => slot.opened(res.req),
  (res, error) => {
    const next = (slot.handle(res.req) ?? res.req.next) as NextFunction | undefined
    if (typeof next !== 'function') throw error // the gate then destroys the response
    next(error)
  },
)

/**
 * The request's app when it is no other app's sub-app and the request and response inherit its
 * prototypes: Express sets them once, while a mounted sub-app's are swapped back on the way out.
 * Only there can a request leave its slot entry (`RequestSlot`) and a response its hold
 * (`ResponseGate`) at home, writing nothing on either.
 */
function rootApp(req: Request, res: Response | undefined): { request: object; response: object } | undefined {
  // `Reflect.get`: `app` sits on the request's prototype (see `RequestSlot` on why).
  const app = Reflect.get(req, 'app') as { parent?: unknown; request?: object; response?: object } | undefined
  if (
    app === undefined ||
    app.parent !== undefined ||
    app.request === undefined ||
    app.response === undefined
  )
    return undefined
  return Object.getPrototypeOf(req) === app.request && res && Object.getPrototypeOf(res) === app.response
    ? (app as { request: object; response: object })
    : undefined
}
/** The `Cookie` header; `Reflect.get`: `headers` is a getter on `IncomingMessage.prototype` (see `RequestSlot`). */
function cookieOf(req: Request): string | undefined {
  return (Reflect.get(req, 'headers') as Request['headers']).cookie
}
const kMembers = Symbol('sessionbridge.members')
const members = {
  ...sessionMembers<Request>({
    state: stateOf,
    address: (req) => req.ip,
    cookie: cookieOf,
  }),
  realtimeTicket: { writable: true, value: null },
  [kMembers]: { value: true },
}

/**
 * The sessionbridge middleware for Express 5: `req.session`, `req.user`, `req.login()`, ... on the
 * requests of the app (or sub-app) it is mounted on. Misconfiguration throws `SessionConfigError` here.
 */
export function sessionMiddleware(options: ExpressSessionOptions): RequestHandler {
  const driver = new SessionDriver<ExpressSessionUser, ExpressSessionData>(options, {
    package: 'express',
    frameworkProxyTrust: true,
  })
  return function sessionbridge(req, res, next) {
    const root = rootApp(req, res)
    if (root) {
      // Shared members on the root app's request prototype, defined once: a request costs no objects.
      if (!Object.hasOwn(root.request, kMembers)) Object.defineProperties(root.request, members)
    } else if (!Object.hasOwn(req, kMembers)) {
      // A mounted sub-app's prototype is swapped back when the request leaves it: members of the
      // request's own keep `req.session` for the parent's routes after it, as `express-session` does.
      Object.defineProperties(req, members)
    }
    const before = slot.begin(req, driver, cookieOf(req), checkInput, next, root?.request)
    // A request that carries no session and never uses one goes out untouched (no hold).
    if (slot.opened(req)) gate.hold(res, root?.response)
    if (!before) return next()
    before.then((answer) => {
      if (!answer) return next()
      res
        .status(answer.status)
        .set(answer.headers ?? {})
        .send(answer.body)
    }, next)
  }
}

// The CSRF form field comes from a body parser mounted before this middleware (`req.body`).
const checkInput = (req: Request) => ({
  method: req.method,
  path: req.path,
  header: (name: string) => req.get(name),
  formField: (name: string) => bodyField(req.body, req.get('content-type'), name),
})

/** Error middleware (mount it last): session errors answer 503/409 with a generic body, others pass on. */
export function sessionErrorHandler(): ErrorRequestHandler {
  return (error, _req, res, next) => {
    const answer = sessionErrorAnswer(error)
    if (!answer || res.headersSent) return next(error)
    res.status(answer.status).type('text/plain; charset=utf-8').send(answer.body)
  }
}
