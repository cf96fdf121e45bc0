import { SessionConfigError } from './errors.ts'
import { base64UrlEncode } from './ids.ts'

/** One counter of an `AttemptStore`. */
export interface AttemptCount {
  /** Attempts in the current window, this one included. */
  count: number
  /** Milliseconds until the window ends and the counter starts again (the store's clock). */
  ttlMs: number
}

/**
 * Where attempt counters live: memory, Redis, memcached or SQL (each backend package has one).
 * Keys are short ASCII strings made by the throttle; every call is atomic on the store.
 */
export interface AttemptStore {
  /** Names the store in logs and errors, e.g. `redis`. */
  readonly name: string
  /** Counts one attempt; the first attempt of a window starts a window of `windowMs`. */
  hit(key: string, windowMs: number): Promise<AttemptCount>
  /** Takes one attempt back (a login that succeeded); never below zero, a missing key stays missing. */
  undo(key: string): Promise<void>
  /** Forgets the counter. */
  reset(key: string): Promise<void>
}

/** A limit: at most `limit` attempts per `windowMs`. */
export interface ThrottleRule {
  limit: number
  windowMs: number
}

/** Options of `loginThrottle`. */
export interface LoginThrottleOptions {
  /** The counters' store (`memoryAttemptStore()`, `redisAttemptStore()`, ...). */
  store: AttemptStore
  /**
   * Attempts per submitted username (case-folded), whoever sends them; a success resets it.
   * `false` turns the rule off. @default { limit: 10, windowMs: 900000 }
   */
  perUsername?: ThrottleRule | false
  /**
   * Failed attempts per client address, whatever the username (one guesser trying many users).
   * `false` turns the rule off. @default { limit: 100, windowMs: 900000 }
   */
  perAddress?: ThrottleRule | false
}

/** Who is trying. */
export interface AttemptSubject {
  username: string
  /** The client address as the adapter sees it (mind proxies); `null` skips the address rule. */
  address: string | null | undefined
}

/** The throttle's verdict: go on (and report success), or refuse with `Retry-After`. */
export type ThrottleVerdict =
  | { allowed: true; succeeded(): Promise<void> }
  | { allowed: false; retryAfterSeconds: number }

/** A resolved throttle. */
export interface LoginThrottle {
  readonly store: AttemptStore
  /**
   * Counts an attempt before any user lookup or password hash, so a refused attempt costs no hash
   * and an unknown username is counted like a known one. Store failures throw (a 503).
   */
  attempt(subject: AttemptSubject): Promise<ThrottleVerdict>
}

const encoder = new TextEncoder()
const DEFAULT_WINDOW = 15 * 60 * 1000

/** A store key that holds no user input verbatim: `u:` or `a:` and 128 bits of SHA-256. */
async function keyOf(kind: 'u' | 'a', text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text))
  return `${kind}:${base64UrlEncode(new Uint8Array(digest).subarray(0, 16))}`
}

function resolveRule(
  rule: ThrottleRule | false | undefined,
  fallback: ThrottleRule,
  option: string,
  pkg: string,
) {
  if (rule === false) return null
  const resolved = rule ?? fallback
  if (
    !resolved ||
    !Number.isInteger(resolved.limit) ||
    resolved.limit < 1 ||
    !Number.isInteger(resolved.windowMs) ||
    resolved.windowMs < 1000
  ) {
    throw new SessionConfigError(pkg, option, '%s needs a whole limit >= 1 and windowMs >= 1000')
  }
  return { limit: resolved.limit, windowMs: resolved.windowMs }
}

const retryAfter = (count: AttemptCount) => Math.max(1, Math.ceil(count.ttlMs / 1000))

/**
 * Limits password attempts per username and per client address. An attempt is counted before it
 * is checked (atomically, so a burst cannot slip through); over a limit the caller answers 429 with
 * `Retry-After` and computes no password hash. A success resets the username's counter and takes
 * its attempt back from the address, so an office behind one address is not throttled by logins.
 */
export function loginThrottle(options: LoginThrottleOptions, pkg = 'core'): LoginThrottle {
  const store = options?.store
  if (
    !store ||
    typeof store.hit !== 'function' ||
    typeof store.undo !== 'function' ||
    typeof store.reset !== 'function'
  ) {
    throw new SessionConfigError(pkg, 'store', '%s must be an AttemptStore (hit, undo, reset)')
  }
  const perUsername = resolveRule(
    options.perUsername,
    { limit: 10, windowMs: DEFAULT_WINDOW },
    'perUsername',
    pkg,
  )
  const perAddress = resolveRule(
    options.perAddress,
    { limit: 100, windowMs: DEFAULT_WINDOW },
    'perAddress',
    pkg,
  )

  return Object.freeze({
    store,
    async attempt(subject: AttemptSubject): Promise<ThrottleVerdict> {
      const name =
        typeof subject.username === 'string' ? subject.username.normalize('NFKC').toLowerCase() : ''
      const userKey = perUsername ? await keyOf('u', name) : null
      const address = typeof subject.address === 'string' && subject.address !== '' ? subject.address : null
      const addressKey = perAddress && address ? await keyOf('a', address) : null
      // The username first: a flood against one user must not use up its address's budget.
      if (userKey && perUsername) {
        const count = await store.hit(userKey, perUsername.windowMs)
        if (count.count > perUsername.limit) return { allowed: false, retryAfterSeconds: retryAfter(count) }
      }
      if (addressKey && perAddress) {
        const count = await store.hit(addressKey, perAddress.windowMs)
        if (count.count > perAddress.limit) return { allowed: false, retryAfterSeconds: retryAfter(count) }
      }
      return {
        allowed: true,
        async succeeded() {
          if (userKey) await store.reset(userKey)
          if (addressKey) await store.undo(addressKey)
        },
      }
    },
  })
}
