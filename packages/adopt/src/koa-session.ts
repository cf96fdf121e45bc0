import { readCookie } from '@sessionbridge/core/adapter'
import { hmacSigners, keygripVerify, secretList } from './signature.ts'
import {
  type AdoptedSession,
  appData,
  defaultUserIdOf,
  type ForeignStore,
  type SessionAdopter,
  type UserIdOf,
} from './types.ts'

/** Options of `koaSessionAdopter`. */
export interface KoaSessionAdopterOptions {
  /** The app's `app.keys` (keygrip), newest first: every one is tried. */
  keys: readonly string[]
  /** The cookie's name (koa-session's `key`). @default 'koa.sess' */
  cookieName?: string
  /** koa-session's `signed`: a `<name>.sig` cookie must verify. Turning it off accepts forged cookies. @default true */
  signed?: boolean
  /**
   * koa-session's external store, when it used one: the cookie then holds a key and the data is in
   * the store. Without it the data is read from the cookie itself (koa-session's default).
   */
  store?: ForeignStore
  /** Finds the user id in the old data. @default defaultUserIdOf */
  userIdOf?: UserIdOf
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

const PKG = 'adopt/koa-session'
/** koa-session's own bookkeeping inside the session object. */
const BOOKKEEPING = ['_expire', '_maxAge', '_session'] as const

/** koa-session: a signed cookie holding base64 JSON (default), or a key into an external store. */
export function koaSessionAdopter(options: KoaSessionAdopterOptions): SessionAdopter {
  const signers = hmacSigners(secretList(PKG, 'keys', options?.keys), 'SHA-1')
  const resolved = Object.freeze({
    cookieName: options.cookieName ?? 'koa.sess',
    signed: options.signed ?? true,
    store: options.store ?? null,
    userIdOf: options.userIdOf ?? defaultUserIdOf,
    now: options.now ?? Date.now,
  })
  const { cookieName } = resolved
  const sigName = `${cookieName}.sig`

  const readStored = async (value: string): Promise<Record<string, unknown> | null> => {
    if (resolved.store) return resolved.store.get(value)
    return decodeCookieJson(value)
  }

  return {
    name: 'koa-session',
    cookieNames: [cookieName],
    async read(cookieHeader): Promise<AdoptedSession | null> {
      const value = readCookie(cookieHeader, cookieName)
      if (value === null) return null
      if (resolved.signed) {
        const signature = readCookie(cookieHeader, sigName)
        if (signature === null || !(await keygripVerify(`${cookieName}=${value}`, signature, signers)))
          return null
      }
      const stored = await readStored(value)
      if (stored === null) return null
      const expire = stored._expire
      if (typeof expire === 'number' && expire <= resolved.now()) return null
      const data = appData(stored, BOOKKEEPING)
      const store = resolved.store
      return {
        data,
        userId: resolved.userIdOf(data),
        retire: async () => {
          if (store) await store.destroy(value)
        },
        clearCookies: resolved.signed ? [cookieName, sigName] : [cookieName],
      }
    },
  }
}

/** koa-session's cookie codec: base64 of UTF-8 JSON. `null` for anything else. */
function decodeCookieJson(value: string): Record<string, unknown> | null {
  try {
    const binary = atob(value)
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}
