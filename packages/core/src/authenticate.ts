import type { LoginThrottle } from './throttle.ts'
import type { AuthUser, UserSource } from './users.ts'

/** Options of `authenticate`. */
export interface AuthenticateOptions {
  /** Attempt limits; without one every attempt is checked. @default null */
  throttle?: LoginThrottle | null
  /** The client address, for the throttle's per-address rule. @default null */
  address?: string | null
}

/** What a credentials check found. */
export type AuthenticateResult<User extends AuthUser = AuthUser> =
  | { status: 'ok'; user: User }
  | { status: 'invalid' }
  | { status: 'throttled'; retryAfterSeconds: number }

/**
 * Django's `authenticate` for a login form or Basic credentials: the throttle first (over a limit
 * nothing is looked up and no hash computed), then the user by username or email, then exactly one
 * password hash whether the user exists or not. Inactive users are `invalid`.
 */
export async function authenticate<User extends AuthUser>(
  users: UserSource<User>,
  credentials: { username: string; password: string },
  options: AuthenticateOptions = {},
): Promise<AuthenticateResult<User>> {
  const username = typeof credentials.username === 'string' ? credentials.username : ''
  const password = typeof credentials.password === 'string' ? credentials.password : ''
  const verdict = options.throttle
    ? await options.throttle.attempt({ username, address: options.address ?? null })
    : null
  if (verdict && !verdict.allowed)
    return { status: 'throttled', retryAfterSeconds: verdict.retryAfterSeconds }
  const found = username ? await users.findByLogin(username) : null
  const candidate = found?.isActive ? found : null
  // Always hash: an unknown or inactive user costs what a wrong password costs.
  const valid = await users.verifyPassword(candidate, password)
  if (!valid || !candidate) return { status: 'invalid' }
  if (verdict) await verdict.succeeded()
  return { status: 'ok', user: candidate }
}
