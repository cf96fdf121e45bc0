import { SessionConfigError } from '@sessionbridge/core'
import { sqlStatement } from '@sessionbridge/core/adapter'
import {
  type DjangoSqlClient,
  fromSqlBool,
  fromSqlDate,
  IDENTIFIER,
  quoteIdent,
  toSqlBool,
  toSqlDate,
} from './sql.ts'
import type { DjangoUser, DjangoUserColumns, DjangoUserField } from './users.ts'

const PKG = 'django'

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

/** A table or column name option, checked once: `SessionConfigError` naming the option otherwise. */
export function checkName(option: string, name: unknown): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new SessionConfigError(PKG, option, '%s must be a plain SQL identifier (letters, digits, _)')
  }
  return name
}

/** Options of `userTable`: where the users are (a subset of `DjangoUsersOptions`). */
export interface UserTableOptions {
  client: DjangoSqlClient
  /** @default 'auth_user' */
  table?: string
  /** @default auth_user's */
  columns?: Partial<DjangoUserColumns>
  /** @default 'integer' */
  idType?: 'integer' | 'string'
}

/** Reads and writes rows of the user table, as `DjangoUser` objects. */
export interface UserTable {
  readonly table: string
  readonly cols: DjangoUserColumns
  readonly dialect: DjangoSqlClient['dialect']
  /** Quotes a checked identifier for the dialect. */
  q(name: string): string
  /** A statement in the dialect's own placeholders: each `p()` is the next (`$n` or `?`). */
  sql(build: (p: () => string) => string): string
  /** Up to `limit` users whose `column` equals `value`, over `db` (the client or a transaction). */
  selectWhere(db: DjangoSqlClient, column: string, value: unknown, limit?: number): Promise<DjangoUser[]>
  /** A session's user id as the primary key type, or `null` when it cannot be one. */
  parseId(id: string): number | string | null
  /** `save(update_fields=...)`. */
  save(user: DjangoUser, fields: readonly DjangoUserField[]): Promise<void>
}

/** The user table of `djangoUsers`: names checked at startup, rows mapped both ways. */
export function userTable(options: UserTableOptions): UserTable {
  const { client } = options
  const dialect = client.dialect
  const q = (name: string) => quoteIdent(dialect, name)
  const sql = (build: (p: () => string) => string) => sqlStatement(dialect, build)
  const table = checkName('table', options.table ?? 'auth_user')
  const cols: DjangoUserColumns = { ...DEFAULT_COLUMNS, ...options.columns }
  for (const [field, column] of Object.entries(cols))
    if (column !== null) checkName(`columns.${field}`, column)
  const idType = options.idType ?? 'integer'

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
  const sqlValue = (field: DjangoUserField, user: DjangoUser): unknown => {
    const value = user[field]
    if (typeof value === 'boolean') return toSqlBool(dialect, value)
    if (value instanceof Date) return toSqlDate(dialect, value)
    return value
  }

  return Object.freeze({
    table,
    cols,
    dialect,
    q,
    sql,
    async selectWhere(db: DjangoSqlClient, column: string, value: unknown, limit = 1) {
      const { rows } = await db.query(
        sql((p) => `SELECT * FROM ${q(table)} WHERE ${q(column)} = ${p()} LIMIT ${limit}`),
        [value],
      )
      return rows.map(toUser)
    },
    parseId(id: string): number | string | null {
      if (typeof id !== 'string' && typeof id !== 'number') return null
      if (idType === 'string') return String(id)
      const text = String(id).trim()
      if (!/^[+-]?\d+$/.test(text)) return null
      const n = Number(text)
      return Number.isSafeInteger(n) ? n : null
    },
    async save(user: DjangoUser, fields: readonly DjangoUserField[]) {
      const columns: string[] = []
      const params: unknown[] = []
      for (const field of fields) {
        const column = cols[field]
        if (column === null || column === undefined)
          throw new RangeError(`the user table has no column for "${field}"`)
        columns.push(q(column))
        params.push(sqlValue(field, user))
      }
      if (columns.length === 0) return
      await client.query(
        sql(
          (p) =>
            `UPDATE ${q(table)} SET ${columns.map((c) => `${c} = ${p()}`).join(', ')} WHERE ${q(cols.id)} = ${p()}`,
        ),
        [...params, user.id],
      )
    },
  })
}
