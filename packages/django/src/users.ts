import {
  type AuthUser,
  DEFAULT_AUTH_BACKEND,
  missingOption,
  SessionConfigError,
  type UserSource,
} from '@sessionbridge/core'
import { constantTimeEqual, saltedHmac, toHex } from './crypto.ts'
import { type PasswordHashers, type PasswordHashersOptions, passwordHashers } from './hashers.ts'
import {
  type DjangoSqlClient,
  fromSqlBool,
  fromSqlDate,
  IDENTIFIER,
  quoteIdent,
  toSqlBool,
  toSqlDate,
} from './sql.ts'

const PKG = 'django'
const SESSION_HASH_SALT = 'django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash'

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

const DEFAULT_COLUMNS: DjangoUserColumns = {
  id: 'id',
  username: 'username',
  password: 'password',
  email: 'email',
  isActive: 'is_active',
  isSuperuser: 'is_superuser',
  isStaff: 'is_staff',
  firstName: 'first_name',
  lastName: 'last_name',
  lastLogin: 'last_login',
  dateJoined: 'date_joined',
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
  /** Older secrets whose session auth hashes still verify (`SECRET_KEY_FALLBACKS`). @default [] */
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
  verifySessionHash(user: DjangoUser, hash: string): Promise<boolean>
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

function checkName(option: string, name: unknown): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new SessionConfigError(PKG, option, '%s must be a plain SQL identifier (letters, digits, _)')
  }
  return name
}

/** Django's `BaseUserManager.normalize_email`: lower-cases the domain part. */
function normalizeEmail(email: string): string {
  const at = email.lastIndexOf('@')
  return at < 0 ? email : email.slice(0, at) + email.slice(at).toLowerCase()
}

/**
 * Django's `auth_user` (or a custom user model) as a `UserSource`: the same lookups, password checks,
 * hash upgrades, session auth hash and permissions as Django's ModelBackend.
 */
export function djangoUsers(options: DjangoUsersOptions): DjangoUsers {
  if (!options?.client) throw missingOption(PKG, 'client')
  if (options.secretKey === undefined) throw missingOption(PKG, 'secretKey')
  if (typeof options.secretKey !== 'string' || options.secretKey.length === 0) {
    throw new SessionConfigError(PKG, 'secretKey', '%s must be a non-empty string')
  }
  const { client } = options
  const dialect = client.dialect
  const q = (name: string) => quoteIdent(dialect, name)
  const keys = [options.secretKey, ...(options.fallbackKeys ?? [])]
  const table = checkName('table', options.table ?? 'auth_user')
  const cols: DjangoUserColumns = { ...DEFAULT_COLUMNS, ...options.columns }
  for (const [field, column] of Object.entries(cols))
    if (column !== null) checkName(`columns.${field}`, column)
  const idType = options.idType ?? 'integer'
  const loginFields = options.loginFields ?? ['username', 'email']
  const perms =
    options.permissions === false
      ? null
      : {
          userPermissions: checkName(
            'permissions.userPermissions',
            options.permissions?.userPermissions ?? `${table}_user_permissions`,
          ),
          userGroups: checkName(
            'permissions.userGroups',
            options.permissions?.userGroups ?? `${table}_groups`,
          ),
          userColumn: checkName('permissions.userColumn', options.permissions?.userColumn ?? 'user_id'),
        }
  const hashers = passwordHashers(options)
  const upgradeHashes = options.upgradeHashes ?? true
  const now = options.now ?? Date.now
  const backendPath = options.backendPath ?? DEFAULT_AUTH_BACKEND
  const permCache = new WeakMap<DjangoUser, Promise<ReadonlySet<string>>>()

  const str = (row: Record<string, unknown>, col: string | null) =>
    col === null ? null : ((row[col] as string | null) ?? null)
  const toUser = (row: Record<string, unknown>): DjangoUser => ({
    id: idType === 'integer' ? Number(row[cols.id]) : String(row[cols.id]),
    username: String(row[cols.username]),
    password: String(row[cols.password] ?? ''),
    isActive: cols.isActive === null ? true : fromSqlBool(row[cols.isActive]),
    isSuperuser: cols.isSuperuser !== null && fromSqlBool(row[cols.isSuperuser]),
    isStaff: cols.isStaff !== null && fromSqlBool(row[cols.isStaff]),
    email: str(row, cols.email),
    firstName: str(row, cols.firstName),
    lastName: str(row, cols.lastName),
    lastLogin: cols.lastLogin === null ? null : fromSqlDate(row[cols.lastLogin]),
    dateJoined: cols.dateJoined === null ? null : fromSqlDate(row[cols.dateJoined]),
    row,
  })
  const selectWhere = async (db: DjangoSqlClient, column: string, value: unknown, limit = 1) => {
    const { rows } = await db.query(`SELECT * FROM ${q(table)} WHERE ${q(column)} = ? LIMIT ${limit}`, [
      value,
    ])
    return rows.map(toUser)
  }
  const parseId = (id: string): number | string | null => {
    if (typeof id !== 'string' && typeof id !== 'number') return null
    if (idType === 'string') return String(id)
    const text = String(id).trim()
    if (!/^[+-]?\d+$/.test(text)) return null
    const n = Number(text)
    return Number.isSafeInteger(n) ? n : null
  }
  const sqlValue = (field: DjangoUserField, user: DjangoUser): unknown => {
    const value = user[field]
    if (typeof value === 'boolean') return toSqlBool(dialect, value)
    if (value instanceof Date) return toSqlDate(dialect, value)
    return value
  }
  const save = async (user: DjangoUser, fields: readonly DjangoUserField[]) => {
    const sets: string[] = []
    const params: unknown[] = []
    for (const field of fields) {
      const column = cols[field]
      if (column === null || column === undefined)
        throw new RangeError(`the user table has no column for "${field}"`)
      sets.push(`${q(column)} = ?`)
      params.push(sqlValue(field, user))
    }
    if (sets.length === 0) return
    await client.query(`UPDATE ${q(table)} SET ${sets.join(', ')} WHERE ${q(cols.id)} = ?`, [
      ...params,
      user.id,
    ])
  }
  const sessionHashWith = async (user: DjangoUser, key: string, algorithm: 'sha256' | 'sha1') =>
    toHex(await saltedHmac(SESSION_HASH_SALT, user.password, key, algorithm))

  const loadPermissions = async (user: DjangoUser): Promise<ReadonlySet<string>> => {
    if (!user.isActive || !perms) return new Set()
    if (user.isSuperuser) {
      const { rows } = await client.query<{ app_label: string; codename: string }>(
        'SELECT ct.app_label, p.codename FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id',
      )
      return new Set(rows.map((r) => `${r.app_label}.${r.codename}`))
    }
    // ModelBackend: the user's own permissions plus those of the user's groups.
    const { rows } = await client.query<{ app_label: string; codename: string }>(
      `SELECT ct.app_label, p.codename FROM auth_permission p
         JOIN ${q(perms.userPermissions)} up ON up.permission_id = p.id
         JOIN django_content_type ct ON ct.id = p.content_type_id
        WHERE up.${q(perms.userColumn)} = ?
       UNION
       SELECT ct.app_label, p.codename FROM auth_permission p
         JOIN auth_group_permissions gp ON gp.permission_id = p.id
         JOIN ${q(perms.userGroups)} ug ON ug.group_id = gp.group_id
         JOIN django_content_type ct ON ct.id = p.content_type_id
        WHERE ug.${q(perms.userColumn)} = ?`,
      [user.id, user.id],
    )
    return new Set(rows.map((r) => `${r.app_label}.${r.codename}`))
  }
  const allPermissions = (user: DjangoUser) => {
    let cached = permCache.get(user)
    if (!cached) {
      cached = loadPermissions(user)
      cached.catch(() => permCache.delete(user))
      permCache.set(user, cached)
    }
    return cached
  }

  return Object.freeze({
    backendPath,
    hashers,
    async getById(id: string) {
      const pk = parseId(id)
      return pk === null ? null : ((await selectWhere(client, cols.id, pk))[0] ?? null)
    },
    async findByLogin(login: string) {
      if (typeof login !== 'string' || login.length === 0) return null
      for (const field of loginFields) {
        if (field === 'username') {
          const [user] = await selectWhere(client, cols.username, login)
          if (user) return user
        } else if (cols.email !== null && login.includes('@')) {
          const found = await selectWhere(client, cols.email, login, 2)
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
      if (result.valid && result.mustUpdate && upgradeHashes) {
        const previous = user.password
        const encoded = await hashers.make(password)
        // Only replace the hash we checked: a concurrent password change wins.
        const { rowCount } = await client.query(
          `UPDATE ${q(table)} SET ${q(cols.password)} = ? WHERE ${q(cols.id)} = ? AND ${q(cols.password)} = ?`,
          [encoded, user.id, previous],
        )
        if (rowCount > 0) user.password = encoded
      }
      // ModelBackend.user_can_authenticate: inactive users never authenticate.
      return result.valid && user.isActive
    },
    async hasPerm(user: DjangoUser, perm: string) {
      if (!user?.isActive) return false
      if (user.isSuperuser) return true
      return (await allPermissions(user)).has(perm)
    },
    allPermissions,
    sessionHash: (user: DjangoUser) => sessionHashWith(user, options.secretKey, 'sha256'),
    async verifySessionHash(user: DjangoUser, hash: string) {
      if (typeof hash !== 'string' || hash.length === 0) return false
      // A SHA-256 hash is 64 hex characters, a legacy SHA-1 one 40: only try what can match.
      const algorithm = hash.length === 40 ? 'sha1' : 'sha256'
      for (const key of keys) {
        if (constantTimeEqual(hash, await sessionHashWith(user, key, algorithm))) return true
      }
      return false
    },
    async onLogin(user: DjangoUser) {
      if (cols.lastLogin === null) return
      user.lastLogin = new Date(now())
      await save(user, ['lastLogin'])
    },
    async setPassword(user: DjangoUser, password: string | null) {
      user.password = await hashers.make(password)
      await save(user, ['password'])
    },
    save,
    async register(input: DjangoRegistration) {
      if (!input || typeof input.username !== 'string' || input.username.length === 0) {
        throw new RangeError('register() needs a non-empty username')
      }
      const username = input.username.normalize('NFKC')
      const joined = new Date(now())
      const values: [string | null, unknown][] = [
        [cols.username, username],
        [cols.password, await hashers.make(input.password)],
        [cols.email, normalizeEmail(input.email ?? '')],
        [cols.firstName, input.firstName ?? ''],
        [cols.lastName, input.lastName ?? ''],
        [cols.isStaff, toSqlBool(dialect, input.isStaff ?? false)],
        [cols.isSuperuser, toSqlBool(dialect, input.isSuperuser ?? false)],
        [cols.isActive, toSqlBool(dialect, input.isActive ?? true)],
        [cols.dateJoined, toSqlDate(dialect, joined)],
        ...Object.entries(input.extra ?? {}).map(([c, v]): [string, unknown] => [checkName('extra', c), v]),
      ]
      const present = values.filter((entry): entry is [string, unknown] => entry[0] !== null)
      return client.transaction(async (tx) => {
        if ((await selectWhere(tx, cols.username, username)).length > 0) return null
        await tx.query(
          `INSERT INTO ${q(table)} (${present.map(([c]) => q(c)).join(', ')}) VALUES (${present.map(() => '?').join(', ')})`,
          present.map(([, v]) => v),
        )
        return (await selectWhere(tx, cols.username, username))[0] ?? null
      })
    },
  })
}
