import { timingSafeEqual } from './compare.ts'
import { missingOption, SessionConfigError, SessionError } from './errors.ts'
import type { Session } from './session.ts'
import type { SessionData } from './types.ts'
import { AUTH_SESSION_KEYS, type AuthUser, DEFAULT_AUTH_BACKEND, type UserSource } from './users.ts'

// The auth functions only touch Django's reserved keys, so any session shape will do.
type AnySession = Session<SessionData>
const plain = <Data extends SessionData>(session: Session<Data>): AnySession =>
  session as unknown as AnySession

/**
 * The logged-in user of a session, as Django's `get_user` decides it: the stored id must name an
 * active user, and the stored credentials hash must still match (checked in constant time). A
 * mismatch flushes the session (a password change logs other sessions out). `null` = anonymous.
 */
export async function getUser<User extends AuthUser, Data extends SessionData>(
  session: Session<Data>,
  users: UserSource<User>,
): Promise<User | null> {
  const s = plain(session)
  const id = await s.get(AUTH_SESSION_KEYS.userId)
  // Django stores a string, but its pk.to_python accepts a JSON number too.
  if (!((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id))))
    return null
  const user = await users.getById(String(id))
  if (!user?.isActive) return null
  if (users.verifySessionHash || users.sessionHash) {
    const stored = await s.get(AUTH_SESSION_KEYS.hash)
    let verified: boolean | 'fallback' = false
    if (typeof stored === 'string') {
      verified = users.verifySessionHash
        ? await users.verifySessionHash(user, stored)
        : timingSafeEqual(stored, await users.sessionHash!(user))
    }
    if (!verified) {
      s.destroy()
      return null
    }
    if (verified === 'fallback' && users.sessionHash) {
      // Verified under a rotated-out secret: same login, new id, hash under the current secret.
      s.regenerate()
      s.set(AUTH_SESSION_KEYS.hash, await users.sessionHash(user))
    }
  }
  return user
}

/**
 * Logs `user` in, as Django's `login` does: a session that holds another user (or a stale hash)
 * is flushed, any other session keeps its data under a new id; either way the id changes, so a
 * session id planted before login is worthless after it.
 */
export async function login<User extends AuthUser, Data extends SessionData>(
  session: Session<Data>,
  user: User,
  users: UserSource<User>,
): Promise<void> {
  if (!user || (typeof user.id !== 'string' && typeof user.id !== 'number')) {
    throw new SessionError('[sessionbridge/core] login() needs a user with an id')
  }
  const s = plain(session)
  const hash = users.sessionHash ? await users.sessionHash(user) : null
  const current = await s.get(AUTH_SESSION_KEYS.userId)
  const stored = await s.get(AUTH_SESSION_KEYS.hash)
  const otherUser =
    current !== undefined &&
    (String(current) !== String(user.id) ||
      (hash !== null && !timingSafeEqual(typeof stored === 'string' ? stored : '', hash)))
  if (otherUser) s.destroy()
  else s.regenerate()
  s.set(AUTH_SESSION_KEYS.userId, String(user.id))
  s.set(AUTH_SESSION_KEYS.backend, users.backendPath ?? DEFAULT_AUTH_BACKEND)
  if (hash !== null) s.set(AUTH_SESSION_KEYS.hash, hash)
  await users.onLogin?.(user)
}

/** Logs out: the whole session is deleted at commit and its cookie cleared (Django's `flush`). */
export function logout<Data extends SessionData>(session: Session<Data>): void {
  session.destroy()
}

/**
 * The request's user, loaded at most once and only when asked for: `await lazy` or `lazy.get()`.
 * Requests that never ask cost no user query. Without a `UserSource` it is always `null`.
 */
export class LazyUser<User extends AuthUser = AuthUser> implements PromiseLike<User | null> {
  #session: Session<SessionData>
  #users: UserSource<User> | null
  #value: Promise<User | null> | null = null

  constructor(session: Session<SessionData>, users: UserSource<User> | null) {
    this.#session = session
    this.#users = users
  }

  /** Whether the user was looked up (or set) during this request. */
  get loaded(): boolean {
    return this.#value !== null
  }

  get(): Promise<User | null> {
    this.#value ??= this.#users ? getUser(this.#session, this.#users) : Promise.resolve(null)
    return this.#value
  }

  /** Replaces the cached user (after login or logout). */
  set(user: User | null): void {
    this.#value = Promise.resolve(user)
  }

  // biome-ignore lint/suspicious/noThenProperty: the lazy user is awaitable on purpose
  then<A = User | null, B = never>(
    onFulfilled?: ((value: User | null) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.get().then(onFulfilled, onRejected)
  }
}

/**
 * Everything auth-related one request carries, shared by the framework adapters: the session,
 * the lazy user, and login/logout that keep the two in step.
 */
export class RequestAuth<User extends AuthUser = AuthUser, Data extends SessionData = SessionData> {
  readonly session: Session<Data>
  readonly user: LazyUser<User>
  readonly users: UserSource<User> | null
  #pkg: string

  constructor(session: Session<Data>, users: UserSource<User> | null, pkg = 'core') {
    this.session = session
    this.users = users
    this.user = new LazyUser(plain(session), users)
    this.#pkg = pkg
  }

  /** The configured user source; throws `SessionConfigError` naming the option when there is none. */
  requireUsers(): UserSource<User> {
    if (!this.users) throw missingOption(this.#pkg, 'users')
    return this.users
  }

  async login(user: User): Promise<void> {
    await login(this.session, user, this.requireUsers())
    this.user.set(user)
  }

  logout(): void {
    logout(this.session)
    this.user.set(null)
  }
}

/** Checks a `users` option at startup: `null` when none was given, `SessionConfigError` when unusable. */
export function checkUserSource<User extends AuthUser>(
  users: UserSource<User> | null | undefined,
  pkg = 'core',
): UserSource<User> | null {
  if (users === undefined || users === null) return null
  for (const method of ['getById', 'findByLogin', 'verifyPassword', 'hasPerm'] as const) {
    if (typeof users[method] !== 'function') {
      throw new SessionConfigError(pkg, 'users', `%s has no ${method}() method`)
    }
  }
  return users
}
