import type { SessionData } from './types.ts'

/** A session found in another library's cookie and store, ready to be adopted. */
export interface AdoptedSession {
  /** The app's data, the library's own bookkeeping (`cookie`, `_expire`, `_maxAge`) left out. */
  data: SessionData
  /** The logged-in user's id as the adopter found it, or `null`. */
  userId: string | null
  /** Deletes the foreign record so the old cookie is worth nothing (called after the new session is saved). */
  retire(): Promise<void>
  /** Names of the foreign cookies to clear on the response. */
  clearCookies: readonly string[]
}

/**
 * Reads another session library's sessions, so an app can switch to sessionbridge without logging
 * anyone out (`@sessionbridge/adopt` has them for express-session, @fastify/session, koa-session).
 * Bad input is an answer: a missing, forged or expired cookie or record gives `null`; only a store
 * that fails throws.
 */
export interface SessionAdopter {
  /** The library, e.g. `express-session`. */
  readonly name: string
  /** The cookies it reads: it is asked only when one of them is present. */
  readonly cookieNames: readonly string[]
  read(cookieHeader: string): Promise<AdoptedSession | null>
}
