import { readCookie } from '@sessionbridge/core/adapter'
import { decodeCookieValue, hmacSigners, secretList, unsignCookieSignature } from './signature.ts'
import {
  type AdoptedSession,
  appData,
  defaultUserIdOf,
  type ForeignStore,
  type SessionAdopter,
  type UserIdOf,
} from './types.ts'

/** Options shared by the adopters of express-session and @fastify/session. */
export interface ConnectSessionAdopterOptions {
  /** The library's `secret` (a list when it rotated secrets: every one is tried). */
  secret: string | readonly string[]
  /** Where it kept the sessions: `redisForeignStore`, `sqlForeignStore`, `memcachedForeignStore`. */
  store: ForeignStore
  /** The session cookie's name. @default 'connect.sid' (express-session), 'sessionId' (@fastify/session) */
  cookieName?: string
  /** Finds the user id in the old data. @default defaultUserIdOf (Passport's `passport.user`, `userId`, ...) */
  userIdOf?: UserIdOf
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

/** How one library signs its cookie and names it. */
interface Flavour {
  name: string
  defaultCookie: string
  /** express-session writes `s:` before the signed value; @fastify/session writes none. */
  prefix: string
}

/** The library's own bookkeeping inside the stored object. */
const BOOKKEEPING = ['cookie'] as const

/** One factory for both libraries: they share cookie-signature and the connect store shape. */
export function connectSessionAdopter(
  flavour: Flavour,
  options: ConnectSessionAdopterOptions,
): SessionAdopter {
  const pkg = `adopt/${flavour.name}`
  const signers = hmacSigners(secretList(pkg, 'secret', options?.secret), 'SHA-256')
  const resolved = Object.freeze({
    cookieName: options.cookieName ?? flavour.defaultCookie,
    store: options.store,
    userIdOf: options.userIdOf ?? defaultUserIdOf,
    now: options.now ?? Date.now,
  })
  return {
    name: flavour.name,
    cookieNames: [resolved.cookieName],
    async read(cookieHeader): Promise<AdoptedSession | null> {
      // The connect family writes the value URL-encoded (`s%3A...`); the header is read as sent.
      const raw = decodeCookieValue(readCookie(cookieHeader, resolved.cookieName))
      if (raw === null || !raw.startsWith(flavour.prefix)) return null
      const id = await unsignCookieSignature(raw.slice(flavour.prefix.length), signers)
      if (id === null) return null
      const stored = await resolved.store.get(id)
      if (stored === null || isExpired(stored.cookie, resolved.now())) return null
      const data = appData(stored, BOOKKEEPING)
      return {
        data,
        userId: resolved.userIdOf(data),
        retire: () => resolved.store.destroy(id),
        clearCookies: [resolved.cookieName],
      }
    },
  }
}

/** The stored `cookie.expires` (an ISO date, or absent for browser-session cookies) is past. */
function isExpired(cookie: unknown, now: number): boolean {
  if (cookie === null || typeof cookie !== 'object') return false
  const expires = (cookie as { expires?: unknown }).expires
  if (typeof expires !== 'string' && typeof expires !== 'number') return false
  const at = new Date(expires).getTime()
  return Number.isFinite(at) && at <= now
}

/** express-session (`connect.sid`, `s:`-prefixed cookie-signature), with any connect store. */
export function expressSessionAdopter(options: ConnectSessionAdopterOptions): SessionAdopter {
  return connectSessionAdopter(
    { name: 'express-session', defaultCookie: 'connect.sid', prefix: 's:' },
    options,
  )
}

/** @fastify/session (`sessionId`, cookie-signature without prefix), with any connect-style store. */
export function fastifySessionAdopter(options: ConnectSessionAdopterOptions): SessionAdopter {
  return connectSessionAdopter({ name: 'fastify-session', defaultCookie: 'sessionId', prefix: '' }, options)
}
