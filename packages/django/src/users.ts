import { type AuthUser, SessionConfigError, type UserSource } from '@sessionbridge/core'
import { DEFAULT_AUTH_BACKEND, missingOption } from '@sessionbridge/core/adapter'
import { type PasswordHashers, type PasswordHashersOptions, passwordHashers } from './hashers.ts'
import type { DjangoSqlClient } from './sql.ts'
import { userPermissions } from './users-permissions.ts'
import { userRegistration } from './users-register.ts'
import { sessionAuthHash } from './users-session-hash.ts'
import { userTable } from './users-table.ts'
import { djangoTraits } from './versions.ts'

const PKG = 'django'

/** A row of `auth_user` (or of a custom user model's table). */
export interface DjangoUser extends AuthUser {
  id: number | string
  /** Django's `USERNAME_FIELD`. */
  username: string
  isActive: boolean
  /** The encoded hash (`pbkdf2_sha256$...`), `!...` when unusable. */
  password: string
  email: string | null
  isSuperuser: boolean
  isStaff: boolean
  firstName: string | null
  lastName: string | null
  lastLogin: Date | null
  dateJoined: Date | null
  /** The whole row, by column name (custom fields included). */
  row: Record<string, unknown>
}

/** Fields `save()` can write. */
export type DjangoUserField = Exclude<keyof DjangoUserColumns, 'id'>

/** Column of each field; `null` when the table has no such column (custom user models). */
export interface DjangoUserColumns {
  id: string
  username: string
  password: string
  email: string | null
  /** `null`: every user is active (Django allows models without `is_active`). */
  isActive: string | null
  isSuperuser: string | null
  isStaff: string | null
  firstName: string | null
  lastName: string | null
  lastLogin: string | null
  dateJoined: string | null
}

/** Where permissions live (Django's `PermissionsMixin`); `false` when the model has none. */
export interface DjangoPermissionTables {
  /** @default `${table}_user_permissions` */
  userPermissions: string
  /** @default `${table}_groups` */
  userGroups: string
  /** The user column of both join tables (`<model>_id`). @default 'user_id' */
  userColumn: string
}

/** Options of `djangoUsers`. */
export interface DjangoUsersOptions extends PasswordHashersOptions {
  /** The database Django uses. */
  client: DjangoSqlClient
  /** Django's `SECRET_KEY` (session auth hashes). */
  secretKey: string
  /**
   * Older secrets whose session auth hashes still verify (`SECRET_KEY_FALLBACKS`, Django 4.1+): such
   * a login is re-issued under `secretKey` with a new session key, as Django does. @default []
   */
  fallbackKeys?: readonly string[]
  /** The user table (`AUTH_USER_MODEL`'s `db_table`). @default 'auth_user' */
  table?: string
  /** Column names, for custom user models. @default auth_user's */
  columns?: Partial<DjangoUserColumns>
  /** Primary key type: `integer` (AutoField) or `string` (CharField and the like). @default 'integer' */
  idType?: 'integer' | 'string'
  /**
   * What `findByLogin` matches, in order. Django's ModelBackend uses the username only; an email
   * matches only when exactly one user has it. @default ['username', 'email']
   */
  loginFields?: readonly ('username' | 'email')[]
  /** Permission tables, or `false`. @default auth_user's */
  permissions?: Partial<DjangoPermissionTables> | false
  /** Re-hash on login when Django would (`must_update`). @default true */
  upgradeHashes?: boolean
  /** `_auth_user_backend` written at login. @default 'django.contrib.auth.backends.ModelBackend' */
  backendPath?: string
  /** Clock, epoch ms (last_login, date_joined). @default Date.now */
  now?: () => number
}

/** What `register` needs. */
export interface DjangoRegistration {
  username: string
  /** `null` stores an unusable password. */
  password: string | null
  email?: string
  firstName?: string
  lastName?: string
  isStaff?: boolean
  isSuperuser?: boolean
  isActive?: boolean
  /** Other columns of a custom model, by column name. */
  extra?: Record<string, unknown>
}

/** Django's users as a `UserSource`, plus the writes Django's `User` model offers. */
export interface DjangoUsers extends UserSource<DjangoUser> {
  readonly backendPath: string
  readonly hashers: PasswordHashers
  sessionHash(user: DjangoUser): Promise<string>
  /** `true`, `'fallback'` (valid under a fallback secret only: core re-issues the session), `false`. */
  verifySessionHash(user: DjangoUser, hash: string): Promise<boolean | 'fallback'>
  onLogin(user: DjangoUser): Promise<void>
  /** Every permission the user holds (`app_label.codename`); superusers: every row of auth_permission. */
  allPermissions(user: DjangoUser): Promise<ReadonlySet<string>>
  /** `set_password` + `save(update_fields=['password'])`; `null` makes it unusable. */
  setPassword(user: DjangoUser, password: string | null): Promise<void>
  /** Writes the listed fields of `user` (`save(update_fields=...)`). */
  save(user: DjangoUser, fields: readonly DjangoUserField[]): Promise<void>
  /** `create_user`: a new user, or `null` when the username is taken. */
  register(input: DjangoRegistration): Promise<DjangoUser | null>
}

/**
 * Django's `auth_user` (or a custom user model) as a `UserSource`: the same lookups, password checks,
 * hash upgrades, session auth hash and permissions as Django's ModelBackend, for the Django version
 * given by `djangoVersion`.
 */
export function djangoUsers(options: DjangoUsersOptions): DjangoUsers {
  if (!options?.client) throw missingOption(PKG, 'client')
  if (options.secretKey === undefined) throw missingOption(PKG, 'secretKey')
  if (typeof options.secretKey !== 'string' || options.secretKey.length === 0) {
    throw new SessionConfigError(PKG, 'secretKey', '%s must be a non-empty string')
  }
  const { client } = options
  const traits = djangoTraits(options.djangoVersion)
  const table = userTable(options)
  const permissions = userPermissions({ client, users: table, permissions: options.permissions ?? {} })
  const authHash = sessionAuthHash({
    secretKey: options.secretKey,
    fallbackKeys: options.fallbackKeys ?? [],
    traits,
  })
  const hashers = passwordHashers(options)
  const loginFields = options.loginFields ?? ['username', 'email']
  const upgradeHashes = options.upgradeHashes ?? true
  const now = options.now ?? Date.now
  const backendPath = options.backendPath ?? DEFAULT_AUTH_BACKEND
  const { cols, q } = table

  /** After a valid check: a weaker hash is replaced, unless a concurrent password change won. */
  const upgradeHash = async (user: DjangoUser, password: string) => {
    const previous = user.password
    const encoded = await hashers.make(password)
    const { rowCount } = await client.query(
      table.sql(
        (p) =>
          `UPDATE ${q(table.table)} SET ${q(cols.password)} = ${p()} WHERE ${q(cols.id)} = ${p()} AND ${q(cols.password)} = ${p()}`,
      ),
      [encoded, user.id, previous],
    )
    if (rowCount > 0) user.password = encoded
  }

  return Object.freeze({
    backendPath,
    hashers,
    async getById(id: string) {
      const pk = table.parseId(id)
      return pk === null ? null : ((await table.selectWhere(client, cols.id, pk))[0] ?? null)
    },
    async findByLogin(login: string) {
      if (typeof login !== 'string' || login.length === 0) return null
      for (const field of loginFields) {
        if (field === 'username') {
          const [user] = await table.selectWhere(client, cols.username, login)
          if (user) return user
        } else if (cols.email !== null && login.includes('@')) {
          // An email logs in only when exactly one user has it.
          const found = await table.selectWhere(client, cols.email, login, 2)
          if (found.length === 1) return found[0]!
        }
      }
      return null
    },
    async verifyPassword(user: DjangoUser | null, password: string) {
      if (!user) {
        await hashers.dummy() // the unknown-user path costs one hash too (#20760)
        return false
      }
      const result = await hashers.check(password, user.password)
      if (result.valid && result.mustUpdate && upgradeHashes) await upgradeHash(user, password)
      // ModelBackend.user_can_authenticate: inactive users never authenticate.
      return result.valid && user.isActive
    },
    hasPerm: permissions.hasPerm,
    allPermissions: permissions.allPermissions,
    sessionHash: (user: DjangoUser) => authHash.make(user.password),
    verifySessionHash: (user: DjangoUser, hash: string) => authHash.verify(user.password, hash),
    async onLogin(user: DjangoUser) {
      if (cols.lastLogin === null) return
      user.lastLogin = new Date(now())
      await table.save(user, ['lastLogin'])
    },
    async setPassword(user: DjangoUser, password: string | null) {
      user.password = await hashers.make(password)
      await table.save(user, ['password'])
    },
    save: table.save,
    register: userRegistration({ client, users: table, hashers, now }),
  })
}
