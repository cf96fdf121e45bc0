import type { DjangoSqlClient } from './sql.ts'
import type { DjangoPermissionTables, DjangoUser } from './users.ts'
import { checkName, type UserTable } from './users-table.ts'

/** Options of `userPermissions`. */
export interface UserPermissionsOptions {
  client: DjangoSqlClient
  users: UserTable
  /** Permission tables, or `false` when the model has none. @default auth_user's */
  permissions?: Partial<DjangoPermissionTables> | false
}

/** ModelBackend's permission checks, one query per user object (= per request). */
export interface UserPermissions {
  allPermissions(user: DjangoUser): Promise<ReadonlySet<string>>
  hasPerm(user: DjangoUser, perm: string): Promise<boolean>
}

type Row = { app_label: string; codename: string }
const names = (rows: Row[]) => new Set(rows.map((r) => `${r.app_label}.${r.codename}`))

/** Django's `ModelBackend` permissions over `auth_permission` and the user's join tables. */
export function userPermissions(options: UserPermissionsOptions): UserPermissions {
  const { client, users } = options
  const { q, table } = users
  const given = options.permissions
  const perms =
    given === false
      ? null
      : {
          userPermissions: checkName(
            'permissions.userPermissions',
            given?.userPermissions ?? `${table}_user_permissions`,
          ),
          userGroups: checkName('permissions.userGroups', given?.userGroups ?? `${table}_groups`),
          userColumn: checkName('permissions.userColumn', given?.userColumn ?? 'user_id'),
        }
  const cache = new WeakMap<DjangoUser, Promise<ReadonlySet<string>>>()

  const load = async (user: DjangoUser): Promise<ReadonlySet<string>> => {
    if (!user.isActive || !perms) return new Set()
    if (user.isSuperuser) {
      const { rows } = await client.query<Row>(
        'SELECT ct.app_label, p.codename FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id',
      )
      return names(rows)
    }
    // The user's own permissions plus those of the user's groups.
    const { rows } = await client.query<Row>(
      users.sql(
        (param) => `SELECT ct.app_label, p.codename FROM auth_permission p
         JOIN ${q(perms.userPermissions)} up ON up.permission_id = p.id
         JOIN django_content_type ct ON ct.id = p.content_type_id
        WHERE up.${q(perms.userColumn)} = ${param()}
       UNION
       SELECT ct.app_label, p.codename FROM auth_permission p
         JOIN auth_group_permissions gp ON gp.permission_id = p.id
         JOIN ${q(perms.userGroups)} ug ON ug.group_id = gp.group_id
         JOIN django_content_type ct ON ct.id = p.content_type_id
        WHERE ug.${q(perms.userColumn)} = ${param()}`,
      ),
      [user.id, user.id],
    )
    return names(rows)
  }
  const allPermissions = (user: DjangoUser) => {
    let cached = cache.get(user)
    if (!cached) {
      cached = load(user)
      cached.catch(() => cache.delete(user))
      cache.set(user, cached)
    }
    return cached
  }
  return Object.freeze({
    allPermissions,
    async hasPerm(user: DjangoUser, perm: string) {
      if (!user?.isActive) return false
      if (user.isSuperuser) return true
      return (await allPermissions(user)).has(perm)
    },
  })
}
