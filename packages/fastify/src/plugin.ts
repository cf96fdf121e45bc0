import type {
  AuthenticateResult,
  AuthUser,
  LazyUser,
  Session,
  SessionData,
  SessionLogger,
} from '@sessionbridge/core'
import {
  bodyField,
  type RequestSession,
  SessionDriver,
  type SessionDriverOptions,
  sessionErrorAnswer,
  sessionMembers,
} from '@sessionbridge/core/adapter'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Your session's data type, by augmentation:
 * `declare module '@sessionbridge/fastify' { interface SessionDataMap { count: number } }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the application through augmentation
export interface SessionDataMap {}
/** Your user type, by augmentation: `interface SessionUserMap { user: MyUser }`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the application through augmentation
export interface SessionUserMap {}

/** The data type of `request.session`. */
export type FastifySessionData = SessionDataMap & SessionData
/** The type of `await request.user`. */
export type FastifySessionUser = SessionUserMap extends { user: infer U extends AuthUser } ? U : AuthUser
type State = RequestSession<FastifySessionUser, FastifySessionData>

const kState = Symbol('sessionbridge.state')
const kDriver = Symbol('sessionbridge.driver')
const kLogs = Symbol('sessionbridge.requestLogs')

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's session; loads on first read, commits in `onSend`. */
    session: Session<FastifySessionData>
    /** The logged-in user, loaded on first `await request.user` (or `.get()`), once per request. */
    user: LazyUser<FastifySessionUser>
    /** Logs `user` in: new session id, Django's auth keys. */
    login(user: FastifySessionUser): Promise<void>
    /** Logs out: the session is deleted and its cookie cleared. */
    logout(): void
    /**
     * Checks credentials through the `throttle` and `users` (Django's `authenticate`; the client
     * address is `request.ip`): `ok` with the user, `invalid`, or `throttled` (answer 429).
     */
    authenticate(username: string, password: string): Promise<AuthenticateResult<FastifySessionUser>>
    /** A CSRF token for a form or a header; sends the `csrftoken` cookie (needs the `csrf` option). */
    csrfToken(): Promise<string>
    /** A fresh realtime ticket, set by the `realtimeTicket()` hook; `null` without user or store. */
    realtimeTicket: string | null
    [kState]: State | null
    [kDriver]: SessionDriver<FastifySessionUser, FastifySessionData> | null
    /** No `logger` option was given: warnings go to `request.log`. */
    [kLogs]: boolean
  }
  interface FastifyContextConfig {
    /** `false` exempts the route from the CSRF check (Basic- or bearer-authenticated APIs). */
    csrf?: boolean
  }
}

/**
 * Options of the plugin: the core session options plus `users` and `tickets`. HTTPS (for
 * `cookie.secure: 'auto'`) is `request.protocol`, so Fastify's own `trustProxy` decides.
 * `logger` defaults to each request's `request.log` (Fastify's pino, with the request id), or to
 * `console` when Fastify's logger is off.
 */
export type FastifySessionOptions = Omit<SessionDriverOptions<FastifySessionUser>, 'trustProxy'>

/** The per-request session state; throws when the plugin is not registered in this request's scope. */
export function stateOf(request: FastifyRequest): State {
  if (request[kState]) return request[kState]
  const driver = request[kDriver]
  if (!driver) throw new Error('[sessionbridge/fastify] the session plugin is not registered for this route')
  // A request without a session cookie gets its state on first use.
  request[kState] = driver.open(undefined, request.protocol === 'https', requestLogger(request))
  return request[kState]
}

/** Fastify's logger of this request, unless the app gave its own `logger` option. */
export function requestLogger(request: FastifyRequest): SessionLogger | undefined {
  return request[kLogs] ? request.log : undefined
}

// Fastify writes every `null`-valued request decoration into each new request (a keyed store
// apiece, on every request): only the state has such a slot. A session error (rare) and a
// realtime ticket (its routes only) are kept beside the request instead; a WeakMap's miss for an
// object never used as a key costs no hash.
const failures = new WeakMap<FastifyRequest, Error>()
const realtimeTickets = new WeakMap<FastifyRequest, string | null>()

/** Sends the body a session error gets instead of a default answer that would quote its message. */
function withoutDetails(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  const failure = failures.get(request)
  const answer = failure && sessionErrorAnswer(failure)
  if (!answer || typeof payload !== 'string') return payload
  const { message } = failure
  if (!payload.includes(message) && !payload.includes(JSON.stringify(message).slice(1, -1))) return payload
  reply.type('application/json; charset=utf-8')
  return JSON.stringify({ statusCode: answer.status, error: answer.body, message: answer.body })
}

/**
 * The cookies go on the reply in the commit's own reaction. The promise goes back to Fastify's hook
 * runner, which sends anything thrown here (or while the headers are written after it) to Fastify's
 * error handling; a `done` called inside `.then` would not.
 */
function finishReply(state: State, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  return state.finishThen((cookies) => {
    for (let i = 0; i < cookies.length; i++) reply.header('set-cookie', cookies[i])
    return withoutDetails(request, reply, payload)
  })
}

const plugin: FastifyPluginAsync<FastifySessionOptions> = async (fastify, options) => {
  const driver = new SessionDriver<FastifySessionUser, FastifySessionData>(
    options as SessionDriverOptions<FastifySessionUser>,
    {
      package: 'fastify',
      frameworkProxyTrust: true,
    },
  )
  fastify.decorateRequest(kState, null)
  fastify.decorateRequest(kDriver, { getter: () => driver })
  // Fastify's logger, unless the app gave its own, or Fastify's is off (its no-op stand-in has no
  // `level`): then the warnings go to `console` as before, rather than nowhere.
  const requestLogs = options.logger === undefined && 'level' in fastify.log
  fastify.decorateRequest(kLogs, { getter: () => requestLogs })
  // session, user, login, logout, authenticate, csrfToken: shared getters and functions (core's kit).
  const members = sessionMembers<FastifyRequest>({
    state: stateOf,
    address: (request) => request.ip,
    cookie: (request) => request.headers.cookie,
  })
  for (const [name, member] of Object.entries(members)) {
    fastify.decorateRequest(name as 'session', member.get ? { getter: member.get } : member.value)
  }
  fastify.decorateRequest('realtimeTicket', {
    getter(this: FastifyRequest) {
      return realtimeTickets.get(this) ?? null
    },
    setter(this: FastifyRequest, ticket: string | null) {
      realtimeTickets.set(this, ticket)
    },
  })

  // No promise and no object for a request without a session cookie; a promise only to verify a signature.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const cookie = request.headers.cookie
    if (!driver.manager.mayCarrySession(cookie)) return done()
    // HTTPS is asked only when a cookie is written (see SessionStart.secure).
    const state = driver.open(cookie, () => request.protocol === 'https', requestLogger(request))
    request[kState] = state
    const verifying = state.start()
    if (!verifying) return done()
    return verifying as unknown as undefined
  })

  if (driver.checks) {
    fastify.addHook('preHandler', async (request, reply) => {
      if (request.routeOptions.config?.csrf === false) return
      const answer = await stateOf(request).check({
        method: request.method,
        path: request.url.split('?', 1)[0],
        header: (name) => {
          const value = request.headers[name]
          return Array.isArray(value) ? value[0] : value
        },
        formField: (name) => bodyField(request.body, request.headers['content-type'], name),
      })
      if (answer)
        return reply
          .code(answer.status)
          .headers(answer.headers ?? {})
          .send(answer.body)
    })
  }

  fastify.addHook('onError', (request, _reply, error, done) => {
    if (sessionErrorAnswer(error)) failures.set(request, error)
    done()
  })

  // onSend runs for every reply (errors and redirects included) before the headers go out.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const state = request[kState]
    // A request that only read its session needs no commit: no promise on the common read.
    if (!state || state.settled) {
      // Fastify's runner catches a throw here, as from the promise below.
      return done(null, failures.has(request) ? withoutDetails(request, reply, payload) : payload)
    }
    return finishReply(state, request, reply, payload) as unknown as undefined
  })
}

/**
 * The sessionbridge plugin for Fastify 5: `request.session`, `request.user`, `request.login()`,
 * `request.logout()`. Misconfiguration rejects `fastify.ready()` with a `SessionConfigError`.
 */
export const sessionPlugin = fp(plugin, { name: '@sessionbridge/fastify', fastify: '5.x' })
