import type { PasswordHashers } from './hashers.ts'
import type { DjangoSqlClient } from './sql.ts'
import { toSqlBool, toSqlDate } from './sql.ts'
import type { DjangoRegistration, DjangoUser } from './users.ts'
import { checkName, type UserTable } from './users-table.ts'

/** Options of `userRegistration`. */
export interface UserRegistrationOptions {
  client: DjangoSqlClient
  users: UserTable
  hashers: PasswordHashers
  /** Clock, epoch ms (date_joined). */
  now: () => number
}

/** Django's `BaseUserManager.normalize_email`: lower-cases the domain part. */
function normalizeEmail(email: string): string {
  const at = email.lastIndexOf('@')
  return at < 0 ? email : email.slice(0, at) + email.slice(at).toLowerCase()
}

/** `UserManager.create_user`: a new user, or `null` when the username is taken. */
export function userRegistration(
  options: UserRegistrationOptions,
): (input: DjangoRegistration) => Promise<DjangoUser | null> {
  const { client, users, hashers, now } = options
  const { cols, q, table, dialect } = users
  return async function register(input: DjangoRegistration) {
    if (!input || typeof input.username !== 'string' || input.username.length === 0) {
      throw new RangeError('register() needs a non-empty username')
    }
    const username = input.username.normalize('NFKC')
    const values: [string | null, unknown][] = [
      [cols.username, username],
      [cols.password, await hashers.make(input.password)],
      [cols.email, normalizeEmail(input.email ?? '')],
      [cols.firstName, input.firstName ?? ''],
      [cols.lastName, input.lastName ?? ''],
      [cols.isStaff, toSqlBool(dialect, input.isStaff ?? false)],
      [cols.isSuperuser, toSqlBool(dialect, input.isSuperuser ?? false)],
      [cols.isActive, toSqlBool(dialect, input.isActive ?? true)],
      [cols.dateJoined, toSqlDate(dialect, new Date(now()))],
      ...Object.entries(input.extra ?? {}).map(([c, v]): [string, unknown] => [checkName('extra', c), v]),
    ]
    const present = values.filter((entry): entry is [string, unknown] => entry[0] !== null)
    return client.transaction(async (tx) => {
      if ((await users.selectWhere(tx, cols.username, username)).length > 0) return null
      await tx.query(
        users.sql(
          (p) =>
            `INSERT INTO ${q(table)} (${present.map(([c]) => q(c)).join(', ')}) VALUES (${present.map(() => p()).join(', ')})`,
        ),
        present.map(([, v]) => v),
      )
      return (await users.selectWhere(tx, cols.username, username))[0] ?? null
    })
  }
}
