import type { LazyUser } from './auth.ts'
import { login as loginUser } from './auth.ts'
import { authenticate } from './authenticate.ts'
import { SessionConfigError } from './errors.ts'
import type { Session } from './session.ts'
import type { LoginThrottle } from './throttle.ts'
import type { SessionData } from './types.ts'
import type { AuthUser, UserSource } from './users.ts'

/** Credentials of an `Authorization: Basic` header. */
export interface BasicCredentials {
  username: string
  password: string
}

/** `Authorization` headers longer than this are not decoded (credentials are far shorter). */
export const MAX_BASIC_HEADER_LENGTH = 4096

const BASIC = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Reads `Authorization: Basic base64(user:password)` as UTF-8 (RFC 7617 with `charset="UTF-8"`).
 * The password is everything after the first colon, so it may hold colons. Any other scheme,
 * bad base64, invalid UTF-8, no colon, an empty username or an oversized header gives `null`.
 * Never throws.
 */
export function parseBasicAuth(header: string | null | undefined): BasicCredentials | null {
  if (typeof header !== 'string' || header.length > MAX_BASIC_HEADER_LENGTH) return null
  const match = BASIC.exec(header.trim())
  if (!match) return null
  const encoded = match[1]!
  if (encoded.replace(/=+$/, '').length % 4 === 1) return null
  let text: string
  try {
    const binary = atob(encoded)
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    text = utf8.decode(bytes)
  } catch {
    return null
  }
  const colon = text.indexOf(':')
  if (colon <= 0) return null
  return { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

/** Options of the Basic guards (`loggedInOrBasicAuth`, `permissionOrBasicAuth`) in every framework. */
export interface BasicGuardOptions {
  /** The protection space shown by the browser's login box; printable ASCII. @default 'Restricted' */
  realm?: string
  /** Keep a user who authenticated with Basic credentials logged in (session login). @default false */
  login?: boolean
  /**
   * Attempt limits for the credentials (see `loginThrottle`): over a limit the guard answers 429
   * with `Retry-After` and computes no password hash. @default null (unlimited)
   */
  throttle?: LoginThrottle | null
}

export interface ResolvedBasicGuard {
  /** `null` for "any logged-in user". */
  permission: string | null
  login: boolean
  throttle: LoginThrottle | null
  /** The ready `WWW-Authenticate` value. */
  challenge: string
}

/**
 * Validates guard options once, at startup. The realm is quoted with `"` and `\` escaped; control
 * and non-ASCII characters are refused (they would break or split the header).
 */
export function resolveBasicGuard(
  permission: string | null,
  options: BasicGuardOptions = {},
  pkg = 'core',
): ResolvedBasicGuard {
  if (permission !== null && (typeof permission !== 'string' || permission.length === 0)) {
    throw new SessionConfigError(pkg, 'permission', '%s must be a non-empty string like "app.codename"')
  }
  const realm = options.realm ?? 'Restricted'
  if (typeof realm !== 'string' || !/^[\x20-\x7e]*$/.test(realm) || realm.length > 200) {
    throw new SessionConfigError(pkg, 'realm', '%s must be printable ASCII of at most 200 characters')
  }
  const quoted = realm.replace(/[\\"]/g, (ch) => `\\${ch}`)
  return Object.freeze({
    permission,
    login: options.login ?? false,
    throttle: options.throttle ?? null,
    challenge: `Basic realm="${quoted}", charset="UTF-8"`,
  })
}

/** What a guard decided: let the request through (with its user), or answer 401/403. */
export type GuardDecision<User extends AuthUser = AuthUser> =
  | { allow: true; user: User }
  | { allow: false; status: 401; headers: { 'WWW-Authenticate': string }; body: string }
  | { allow: false; status: 403; headers: Record<string, never>; body: string }
  | { allow: false; status: 429; headers: { 'Retry-After': string }; body: string }

/** The request facts a guard needs. */
export interface GuardRequest<User extends AuthUser, Data extends SessionData> {
  session: Session<Data>
  user: LazyUser<User>
  users: UserSource<User>
  /** The raw `Authorization` header. */
  authorization: string | null | undefined
  /** The client address, for the throttle's per-address rule. */
  address?: string | null
}

const qualifies = async <User extends AuthUser>(users: UserSource<User>, user: User, perm: string | null) =>
  user.isActive && (perm === null || (await users.hasPerm(user, perm)))

/**
 * The Basic guard decision, framework-free. A session user who qualifies passes. Otherwise Basic
 * credentials are checked through the user source (username or email, active users only; an
 * unknown user still costs one password hash). Valid credentials of a user lacking the permission
 * give 403, as does a logged-in user lacking it who sent none; everything else gets a 401 challenge.
 */
export async function decideBasicGuard<User extends AuthUser, Data extends SessionData>(
  guard: ResolvedBasicGuard,
  request: GuardRequest<User, Data>,
): Promise<GuardDecision<User>> {
  const { users } = request
  const current = await request.user.get()
  if (current && (await qualifies(users, current, guard.permission))) return { allow: true, user: current }

  const credentials = parseBasicAuth(request.authorization)
  const unauthorized: GuardDecision<User> = {
    allow: false,
    status: 401,
    headers: { 'WWW-Authenticate': guard.challenge },
    body: 'Unauthorized',
  }
  const forbidden: GuardDecision<User> = { allow: false, status: 403, headers: {}, body: 'Forbidden' }
  if (!credentials) return current ? forbidden : unauthorized

  const result = await authenticate(users, credentials, {
    throttle: guard.throttle,
    address: request.address,
  })
  if (result.status === 'throttled') {
    const retry = String(result.retryAfterSeconds)
    return { allow: false, status: 429, headers: { 'Retry-After': retry }, body: 'Too Many Requests' }
  }
  if (result.status !== 'ok') return unauthorized
  const candidate = result.user
  if (!(await qualifies(users, candidate, guard.permission))) return forbidden
  if (guard.login) await loginUser(request.session, candidate, users)
  // The handler sees the authenticated user either way; only `login` makes it outlive the request.
  request.user.set(candidate)
  return { allow: true, user: candidate }
}
