/** The least a user must carry for sessions, guards and tickets. */
export interface AuthUser {
  /** Primary key (Django: integer or string). Stored in the session as a string. */
  id: string | number
  username: string
  /** Inactive users are never logged in and have no permissions. */
  isActive: boolean
}

/**
 * Where users come from: Django's `auth_user`, an in-memory list, or your own table. Every method
 * answers bad or unknown input with `null`/`false`; only I/O failure throws.
 */
export interface UserSource<User extends AuthUser = AuthUser> {
  /** The user with this primary key (as stored in the session), or `null`. */
  getById(id: string): Promise<User | null>
  /** The user whose username or email is `login`, or `null`. */
  findByLogin(login: string): Promise<User | null>
  /**
   * Whether `password` is the user's. With `user === null` it must still spend the same hashing
   * time and return `false`, so an unknown user cannot be told apart by timing.
   */
  verifyPassword(user: User | null, password: string): Promise<boolean>
  /** Whether the user holds `perm` (`app_label.codename`). Inactive users hold nothing. */
  hasPerm(user: User, perm: string): Promise<boolean>
  /**
   * A hash of the user's credentials kept in the session at login (Django's `_auth_user_hash`);
   * when it no longer matches, the session is flushed, so a password change logs other sessions out.
   */
  sessionHash?(user: User): Promise<string>
  /**
   * Whether a stored session hash is still valid. `'fallback'`: valid only under an older secret;
   * the session is then re-issued (new id, hash under the current secret), as Django 4.1+ does
   * with `SECRET_KEY_FALLBACKS`.
   */
  verifySessionHash?(user: User, hash: string): Promise<boolean | 'fallback'>
  /** Recorded in the session at login (Django's `_auth_user_backend`). */
  readonly backendPath?: string
  /** Called after a successful login (Django updates `last_login`). */
  onLogin?(user: User): Promise<void>
}

/** The session keys that mark a login: Django's, so one login is seen by Django too. */
export const AUTH_SESSION_KEYS = {
  userId: '_auth_user_id',
  backend: '_auth_user_backend',
  hash: '_auth_user_hash',
} as const

/** Django's default authentication backend path, written at login unless the source names another. */
export const DEFAULT_AUTH_BACKEND = 'django.contrib.auth.backends.ModelBackend'
