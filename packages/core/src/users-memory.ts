import { timingSafeEqual } from './compare.ts'
import { SessionConfigError } from './errors.ts'
import { randomString } from './ids.ts'
import type { AuthUser, UserSource } from './users.ts'

/** A user of `memoryUserSource`. */
export interface MemoryUser extends AuthUser {
  email: string
  isSuperuser: boolean
  /** `app_label.codename` strings. */
  permissions: ReadonlySet<string>
  /** Django's encoded form: `pbkdf2_sha256$<iterations>$<salt>$<base64 key>`. */
  passwordHash: string
  /** Epoch ms of the last login, `null` before the first. */
  lastLogin: number | null
}

/** How a user is described to `memoryUserSource`. */
export interface MemoryUserSeed {
  id: string | number
  username: string
  /** @default '' */
  email?: string
  /** A plain password to hash; or give `passwordHash`. Neither: the user cannot log in with a password. */
  password?: string
  /** An encoded Django `pbkdf2_sha256` hash. */
  passwordHash?: string
  /** @default true */
  isActive?: boolean
  /** @default false */
  isSuperuser?: boolean
  /** @default [] */
  permissions?: Iterable<string>
}

/** Options of `memoryUserSource`. */
export interface MemoryUserSourceOptions {
  /** The users. */
  users?: readonly MemoryUserSeed[]
  /** PBKDF2 iterations for new hashes (Django 3.2: 260000); tests may pass fewer. @default 260000 */
  iterations?: number
  /** Key of the session auth hash (HMAC-SHA256 of the password hash). @default a random secret */
  secret?: string
  /** Written at login as `_auth_user_backend`. @default Django's ModelBackend path */
  backendPath?: string
}

/** An in-memory `UserSource` for tests and examples, with a way to change passwords. */
export interface MemoryUserSource extends UserSource<MemoryUser> {
  /** Adds (or replaces) a user. */
  add(seed: MemoryUserSeed): Promise<MemoryUser>
  /** Re-hashes a user's password: every session holding the old hash is logged out. */
  setPassword(user: MemoryUser | string | number, password: string): Promise<MemoryUser>
  /** Hashes a password in Django's `pbkdf2_sha256` format. */
  hashPassword(password: string, salt?: string): Promise<string>
}

const encoder = new TextEncoder()
const SALT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const HASH_PATTERN = /^pbkdf2_sha256\$([1-9][0-9]{0,8})\$([^$]+)\$([A-Za-z0-9+/]+=*)$/

const toBase64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
const toHex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')

async function pbkdf2(password: string, salt: string, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: encoder.encode(salt), iterations },
    key,
    256,
  )
  return toBase64(bits)
}

/**
 * Users kept in this process. Passwords use Django's PBKDF2-SHA256 format through Web Crypto; the
 * session auth hash is an HMAC of the password hash, so a password change logs sessions out.
 * Logins match the username exactly, or the email (case-insensitive) when it is unique.
 */
export function memoryUserSource(options: MemoryUserSourceOptions = {}): MemoryUserSource {
  const iterations = options.iterations ?? 260_000
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new SessionConfigError('core', 'iterations', '%s must be a positive whole number')
  }
  const secret = options.secret ?? randomString(50, SALT_ALPHABET)
  const users = new Map<string, MemoryUser>()
  const hmacKey = crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )

  const hashPassword = async (password: string, salt = randomString(22, SALT_ALPHABET)) =>
    `pbkdf2_sha256$${iterations}$${salt}$${await pbkdf2(password, salt, iterations)}`
  // Unknown users are checked against this, so they cost exactly one hash, like everyone else.
  const dummyHash = hashPassword(randomString(32, SALT_ALPHABET))

  const add = async (seed: MemoryUserSeed): Promise<MemoryUser> => {
    const passwordHash =
      seed.passwordHash ??
      (seed.password !== undefined
        ? await hashPassword(seed.password)
        : `!${randomString(40, SALT_ALPHABET)}`)
    const user: MemoryUser = Object.freeze({
      id: seed.id,
      username: seed.username,
      email: seed.email ?? '',
      isActive: seed.isActive ?? true,
      isSuperuser: seed.isSuperuser ?? false,
      permissions: new Set(seed.permissions ?? []),
      passwordHash,
      lastLogin: null,
    })
    users.set(String(seed.id), user)
    return user
  }
  const ready = Promise.all((options.users ?? []).map(add))

  const source: MemoryUserSource = {
    backendPath: options.backendPath,
    add,
    hashPassword,
    async getById(id) {
      await ready
      return users.get(String(id)) ?? null
    },
    async findByLogin(loginName) {
      await ready
      if (typeof loginName !== 'string' || loginName.length === 0) return null
      for (const user of users.values()) if (user.username === loginName) return user
      const wanted = loginName.toLowerCase()
      const byEmail = [...users.values()].filter((u) => u.email !== '' && u.email.toLowerCase() === wanted)
      return byEmail.length === 1 ? byEmail[0]! : null
    },
    async verifyPassword(user, password) {
      await ready
      const match = user ? HASH_PATTERN.exec(user.passwordHash) : null
      const target = match ? user!.passwordHash : await dummyHash
      const [, rounds, salt, expected] = HASH_PATTERN.exec(target) ?? HASH_PATTERN.exec(await dummyHash)!
      const actual = await pbkdf2(typeof password === 'string' ? password : '', salt!, Number(rounds))
      return timingSafeEqual(actual, expected!) && match !== null
    },
    async hasPerm(user, perm) {
      if (!user.isActive) return false
      return user.isSuperuser || user.permissions.has(perm)
    },
    async sessionHash(user) {
      const mac = await crypto.subtle.sign('HMAC', await hmacKey, encoder.encode(user.passwordHash))
      return toHex(mac)
    },
    async onLogin(user) {
      const stored = users.get(String(user.id))
      if (stored) users.set(String(user.id), Object.freeze({ ...stored, lastLogin: Date.now() }))
    },
    async setPassword(user, password) {
      await ready
      const id = typeof user === 'object' ? String(user.id) : String(user)
      const stored = users.get(id)
      if (!stored) throw new RangeError(`no user with id ${id}`)
      const updated = Object.freeze({ ...stored, passwordHash: await hashPassword(password) })
      users.set(id, updated)
      return updated
    },
  }
  return source
}
