import {
  type AuthUser,
  type Session as CoreSession,
  checkUserSource,
  createSessionManager,
  LazyUser,
  RequestAuth,
  type SessionData,
  type SessionManagerOptions,
  type UserSource,
} from '@sessionbridge/core'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
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

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's session; loads on first read, commits in `onSend`. */
    session: CoreSession<FastifySessionData>
    /** The logged-in user, loaded on first `await request.user` (or `.get()`), once per request. */
    user: LazyUser<FastifySessionUser>
    /** Logs `user` in: new session id, Django's auth keys. */
    login(user: FastifySessionUser): Promise<void>
    /** Logs out: the session is deleted and its cookie cleared. */
    logout(): void
    /** A fresh realtime ticket, set by the `realtimeTicket()` hook; `null` without user or store. */
    realtimeTicket: string | null
  }
}

/** Options of the plugin: the core session options plus where users come from. */
export interface FastifySessionOptions extends SessionManagerOptions {
  /** Where `request.user`, `login()` and the Basic guards find users. @default undefined (no users) */
  users?: UserSource<FastifySessionUser>
}

const states = new WeakMap<FastifyRequest, RequestAuth<FastifySessionUser, FastifySessionData>>()

/** The per-request auth state; throws when the plugin is not registered in this request's scope. */
export function authOf(request: FastifyRequest): RequestAuth<FastifySessionUser, FastifySessionData> {
  // Requests without a session cookie get their state on first use: the plugin's getter makes it.
  const auth = states.get(request) ?? (request.session !== undefined ? states.get(request) : undefined)
  if (!auth) throw new Error('[sessionbridge/fastify] the session plugin is not registered for this route')
  return auth
}

const firstHeader = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)

const plugin: FastifyPluginAsync<FastifySessionOptions> = async (fastify, options) => {
  const { users, ...sessionOptions } = options ?? ({} as FastifySessionOptions)
  const manager = createSessionManager<FastifySessionData>(sessionOptions as SessionManagerOptions, 'fastify')
  const source = checkUserSource(users, 'fastify')

  // The state of a request that came without a session cookie, made on first use.
  const stateOf = (request: FastifyRequest) => {
    let auth = states.get(request)
    if (!auth) {
      const session = manager.openWithoutCookie({
        protocol: request.protocol,
        forwardedProto: firstHeader(request.headers['x-forwarded-proto']),
      })
      auth = new RequestAuth(session, source, 'fastify')
      states.set(request, auth)
    }
    return auth
  }

  fastify.decorateRequest('session', {
    getter(this: FastifyRequest) {
      return stateOf(this).session
    },
  })
  fastify.decorateRequest('user', {
    getter(this: FastifyRequest) {
      return stateOf(this).user
    },
  })
  fastify.decorateRequest('login', function (this: FastifyRequest, user: FastifySessionUser) {
    return stateOf(this).login(user)
  })
  fastify.decorateRequest('logout', function (this: FastifyRequest) {
    stateOf(this).logout()
  })
  fastify.decorateRequest('realtimeTicket', null)

  // Callback-style hooks: no promise per request where there is nothing to do.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const cookie = request.headers.cookie
    if (!manager.mayCarrySession(cookie)) return done()
    manager
      .open({
        cookie,
        protocol: request.protocol,
        forwardedProto: firstHeader(request.headers['x-forwarded-proto']),
      })
      .then((session) => {
        states.set(request, new RequestAuth(session, source, 'fastify'))
        done()
      }, done)
  })

  // onSend runs for every reply (errors and redirects included) before the headers go out.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const auth = states.get(request)
    if (!auth) return done(null, payload) // the session was never used and no cookie came in
    auth.session.commit().then((result) => {
      if (result.setCookie !== null) reply.header('set-cookie', result.setCookie)
      done(null, payload)
    }, done)
  })
}

/**
 * The sessionbridge plugin for Fastify 5: `request.session`, `request.user`, `request.login()`,
 * `request.logout()`. Misconfiguration rejects `fastify.ready()` with a `SessionConfigError`.
 */
export const sessionPlugin = fp(plugin, { name: '@sessionbridge/fastify', fastify: '5.x' })

export { LazyUser }
