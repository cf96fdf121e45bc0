import { SessionConfigError } from '@sessionbridge/core'
import { backendCall } from '@sessionbridge/core/adapter'
import type { SqlClient, SqlDialect } from './client.ts'
import { baseName, checkDialect, PKG, quoteName, quoteTable } from './dialect.ts'

/** The two table layouts: sessionbridge's own, and Django's `django_session`. */
export type SqlLayout = 'native' | 'django'

/** Default table per layout. */
export const DEFAULT_TABLES: Readonly<Record<SqlLayout, string>> = Object.freeze({
  native: 'sessionbridge_session',
  django: 'django_session',
})

/**
 * The native layout's `CREATE TABLE IF NOT EXISTS` and index statements for `dialect`: id, JSON
 * data (jsonb / json / text), `expires_at` in epoch milliseconds (no time zone can shift it),
 * the user id (indexed, for "log this user out everywhere") and a version counter.
 */
export function nativeTableDdl(dialect: SqlDialect, table: string = DEFAULT_TABLES.native): string[] {
  const t = quoteTable(dialect, table)
  const ix = (suffix: string) => quoteName(dialect, `${baseName(table)}_${suffix}`)
  switch (dialect) {
    case 'postgres':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (id varchar(128) PRIMARY KEY, data jsonb NOT NULL, expires_at bigint NOT NULL, user_id varchar(255) NULL, version integer NOT NULL DEFAULT 1)`,
        `CREATE INDEX IF NOT EXISTS ${ix('user_id')} ON ${t} (user_id)`,
        `CREATE INDEX IF NOT EXISTS ${ix('expires_at')} ON ${t} (expires_at)`,
      ]
    case 'mysql':
      // Binary collation: ids and user ids are case-sensitive. `json` is LONGTEXT + JSON_VALID on MariaDB.
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (id varchar(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, data json NOT NULL, expires_at bigint NOT NULL, user_id varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, version int NOT NULL DEFAULT 1, KEY ${ix('user_id')} (user_id), KEY ${ix('expires_at')} (expires_at)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      ]
    case 'sqlite':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (id text NOT NULL PRIMARY KEY, data text NOT NULL, expires_at integer NOT NULL, user_id text NULL, version integer NOT NULL DEFAULT 1)`,
        `CREATE INDEX IF NOT EXISTS ${ix('user_id')} ON ${t} (user_id)`,
        `CREATE INDEX IF NOT EXISTS ${ix('expires_at')} ON ${t} (expires_at)`,
      ]
  }
}

/**
 * What Django 3.2's own migrations create for `django_session` on each database (as `sqlmigrate
 * sessions 0001` prints it). For reference and tests only: where Django runs, its migrations own
 * this table, and `migrate()` never creates it.
 */
export function djangoTableDdl(dialect: SqlDialect, table: string = DEFAULT_TABLES.django): string[] {
  const t = quoteTable(dialect, table)
  const ix = (suffix: string) => quoteName(dialect, `${baseName(table)}_${suffix}`)
  switch (dialect) {
    case 'postgres':
      return [
        `CREATE TABLE ${t} ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" timestamp with time zone NOT NULL)`,
        `CREATE INDEX ${ix('expire_date_a5c62663')} ON ${t} ("expire_date")`,
        `CREATE INDEX ${ix('session_key_c0390e0f_like')} ON ${t} ("session_key" varchar_pattern_ops)`,
      ]
    case 'mysql':
      return [
        `CREATE TABLE ${t} (\`session_key\` varchar(40) NOT NULL PRIMARY KEY, \`session_data\` longtext NOT NULL, \`expire_date\` datetime(6) NOT NULL)`,
        `CREATE INDEX ${ix('expire_date_a5c62663')} ON ${t} (\`expire_date\`)`,
      ]
    case 'sqlite':
      return [
        `CREATE TABLE ${t} ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)`,
        `CREATE INDEX ${ix('expire_date_a5c62663')} ON ${t} ("expire_date")`,
      ]
  }
}

/** Options of `migrate`. */
export interface MigrateOptions {
  /** Only `native` is created; the Django layout belongs to Django's migrations. */
  layout: SqlLayout
  /** Table name. @default 'sessionbridge_session' */
  table?: string
}

/**
 * Creates the native layout's table and indexes if they do not exist (idempotent). For the
 * `django` layout it creates nothing and throws `SessionConfigError`: run Django's `migrate`,
 * and check the table with `checkDjangoTable()`.
 */
export async function migrate(client: SqlClient, options: MigrateOptions): Promise<void> {
  const dialect = checkDialect(client?.dialect)
  if (options?.layout === 'django') {
    throw new SessionConfigError(
      PKG,
      'layout',
      `%s "django": migrate() never creates Django's table; run Django's migrations, then checkDjangoTable()`,
    )
  }
  if (options?.layout !== 'native')
    throw new SessionConfigError(PKG, 'layout', '%s must be "native" or "django"')
  const statements = nativeTableDdl(dialect, options.table ?? DEFAULT_TABLES.native)
  await backendCall(PKG, 'migrate', async () => {
    for (const statement of statements) await client.query(statement)
  })
}

const DJANGO_COLUMNS = ['session_key', 'session_data', 'expire_date'] as const

/**
 * The lower-cased column names of `table` (empty when it does not exist). Throws
 * `SessionBackendError` (operation `operation`) when the database cannot be asked.
 */
export async function tableColumns(
  client: SqlClient,
  table: string,
  operation: string,
): Promise<Set<string>> {
  const dialect = checkDialect(client?.dialect)
  quoteTable(dialect, table) // validates the name
  const parts = table.split('.')
  const name = parts.pop()!
  const schema = parts[0] ?? null
  let sql: string
  let params: unknown[]
  // Each dialect's statement in its own placeholder syntax.
  if (dialect === 'postgres') {
    sql = `SELECT column_name AS name FROM information_schema.columns WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema())`
    params = [name, schema]
  } else if (dialect === 'mysql') {
    sql = `SELECT column_name AS name FROM information_schema.columns WHERE table_name = ? AND table_schema = COALESCE(?, DATABASE())`
    params = [name, schema]
  } else {
    sql = schema ? `SELECT name FROM pragma_table_info(?, ?)` : `SELECT name FROM pragma_table_info(?)`
    params = schema ? [name, schema] : [name]
  }
  const { rows } = await backendCall(PKG, operation, () =>
    client.query<{ name?: string; NAME?: string }>(sql, params),
  )
  return new Set(rows.map((r) => String(r.name ?? r.NAME).toLowerCase()))
}

/**
 * Verifies that `table` exists with Django's session columns. Throws `SessionConfigError` naming
 * the missing columns (or table), `SessionBackendError` when the database cannot be asked.
 */
export async function checkDjangoTable(
  client: SqlClient,
  table: string = DEFAULT_TABLES.django,
): Promise<void> {
  const found = await tableColumns(client, table, 'checkDjangoTable')
  if (found.size === 0) {
    throw new SessionConfigError(
      PKG,
      'table',
      `%s: table "${table}" does not exist; run Django's migrations (manage.py migrate sessions)`,
    )
  }
  const missing = DJANGO_COLUMNS.filter((c) => !found.has(c))
  if (missing.length > 0) {
    throw new SessionConfigError(
      PKG,
      'table',
      `%s: table "${table}" lacks Django's session columns ${missing.join(', ')}`,
    )
  }
}
