import type { RequestExtension, RequestSession } from './request.ts'
import { boundedCall } from './timeout.ts'
import { RESERVED_KEYS, type SessionData } from './types.ts'
import { AUTH_SESSION_KEYS } from './users.ts'

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

/** The foreign data keys never copied: sessionbridge's and Django's own (a login sets those). */
const NOT_ADOPTED = new Set<string>([...Object.values(RESERVED_KEYS), ...Object.values(AUTH_SESSION_KEYS)])
const EXTENSION = 'adopt'

/**
 * The request extension behind the `adopt` option: on a request that carries no sessionbridge
 * session but one of the adopters' cookies, the foreign session becomes a new sessionbridge session
 * (its data, and its user logged in through `users`), the foreign record is deleted once the new
 * session is saved, and the foreign cookies are cleared. Requests without those cookies pay one
 * substring test per cookie name. A store that fails is logged and the request goes on without
 * adoption (the user can still log in).
 */
export function sessionAdoption(adopters: readonly SessionAdopter[], cookiePath = '/'): RequestExtension {
  const names = [...new Set(adopters.flatMap((adopter) => adopter.cookieNames))]
  return {
    name: EXTENSION,
    async check(request, input) {
      const cookie = input.header('cookie')
      if (!cookie || !names.some((name) => cookie.includes(name))) return null
      await request.start()
      if (request.session.id !== null) return null
      const found = await firstAdopted(request, adopters, cookie)
      if (found) await adopt(request, found)
      return null
    },
    async setCookies(request) {
      const found = request.extensionData?.[EXTENSION] as AdoptedSession | undefined
      if (!found) return []
      // Reached only after the new session was committed: the old record can go now.
      const { manager } = request.driver
      await boundedCall('adopt', 'retire', manager.options.timeout, () => found.retire()).catch(
        (error: unknown) => warn(request, 'deleting the adopted session', error),
      )
      return found.clearCookies.map(
        (name) => `${name}=; Path=${cookiePath}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0`,
      )
    },
  }
}

async function firstAdopted(
  request: RequestSession,
  adopters: readonly SessionAdopter[],
  cookie: string,
): Promise<AdoptedSession | null> {
  const { timeout } = request.driver.manager.options
  for (const adopter of adopters) {
    if (!adopter.cookieNames.some((name) => cookie.includes(name))) continue
    try {
      const found = await boundedCall(adopter.name, 'adopt', timeout, () => adopter.read(cookie))
      if (found) return found
    } catch (error) {
      warn(request, `reading the ${adopter.name} session`, error)
    }
  }
  return null
}

async function adopt(request: RequestSession, found: AdoptedSession): Promise<void> {
  const session = request.session
  for (const [key, value] of Object.entries(found.data)) if (!NOT_ADOPTED.has(key)) session.set(key, value)
  const users = request.users
  if (found.userId !== null && users) {
    const user = await users.getById(found.userId)
    if (user?.isActive) await request.login(user)
  }
  request.extensionData ??= {}
  request.extensionData[EXTENSION] = found
}

function warn(request: RequestSession, what: string, error: unknown): void {
  request.logger.warn(
    `[sessionbridge/${request.driver.package}] ${what} failed: ${(error as Error)?.message ?? String(error)}`,
  )
}
