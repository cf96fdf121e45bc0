import { backendCall, sqlStatement } from '@sessionbridge/core/adapter'
import type { SqlClient, SqlDialect } from './client.ts'
import { baseName, checkDialect, PKG, quoteName, quoteTable } from './dialect.ts'

/** Default name of the Django layout's user table. */
export const DEFAULT_USER_TABLE = 'sessionbridge_session_user'

/**
 * The Django layout's side table for "log out everywhere" (`django_session` has no user column):
 * one row per session that has a user, `session_key` to `user_id`, indexed by user. Idempotent.
 */
export function userTableDdl(dialect: SqlDialect, table: string = DEFAULT_USER_TABLE): string[] {
  const t = quoteTable(dialect, table, 'userTable')
  const ix = quoteName(dialect, `${baseName(table)}_user_id`)
  switch (dialect) {
    case 'postgres':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (session_key varchar(40) NOT NULL PRIMARY KEY, user_id varchar(255) NOT NULL)`,
        `CREATE INDEX IF NOT EXISTS ${ix} ON ${t} (user_id)`,
      ]
    case 'mysql':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (session_key varchar(40) NOT NULL PRIMARY KEY, user_id varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, KEY ${ix} (user_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      ]
    case 'sqlite':
      return [
        `CREATE TABLE IF NOT EXISTS ${t} (session_key text NOT NULL PRIMARY KEY, user_id text NOT NULL)`,
        `CREATE INDEX IF NOT EXISTS ${ix} ON ${t} (user_id)`,
      ]
  }
}

/** Creates the Django layout's user table and its index if they do not exist (idempotent). */
export async function migrateUserTable(client: SqlClient, table: string = DEFAULT_USER_TABLE): Promise<void> {
  const statements = userTableDdl(checkDialect(client?.dialect), table)
  await backendCall(PKG, 'migrateUserTable', async () => {
    for (const statement of statements) await client.query(statement)
  })
}

/** The statements of the user table, for one dialect, the session table and the user table. */
export interface UserTableStatements {
  /** Sets a session's user (insert or replace): key, user. */
  upsert: string
  /** Forgets a session: key. */
  remove: string
  /** Deletes the user's sessions from the session table: user. */
  destroySessions: string
  /** Forgets the user's rows whose session is gone: user. */
  forgetGone: string
  /** Keys of the user's live sessions: user, now. */
  list: string
  /** Forgets every row whose session is gone (after clearExpired). */
  sweep: string
}

/**
 * Builds the statements. `sessions` and `users` are quoted tables, `expireColumn` the session
 * table's expiry column. Each runs on its own: a login writes the session first and its row after,
 * so a row without a session is only ever an orphan, never a session yet to come.
 */
export function userTableStatements(
  dialect: SqlDialect,
  sessions: string,
  users: string,
): UserTableStatements {
  const s = (build: (p: () => string) => string) => sqlStatement(dialect, build)
  const upsert = s((p) =>
    dialect === 'mysql'
      ? `INSERT INTO ${users} (session_key, user_id) VALUES (${p()}, ${p()}) ON DUPLICATE KEY UPDATE user_id = VALUES(user_id)`
      : `INSERT INTO ${users} (session_key, user_id) VALUES (${p()}, ${p()}) ON CONFLICT (session_key) DO UPDATE SET user_id = excluded.user_id`,
  )
  const gone = `NOT EXISTS (SELECT 1 FROM ${sessions} s WHERE s.session_key = ${users}.session_key)`
  return {
    upsert,
    remove: s((p) => `DELETE FROM ${users} WHERE session_key = ${p()}`),
    destroySessions: s(
      (p) =>
        `DELETE FROM ${sessions} WHERE session_key IN (SELECT session_key FROM ${users} WHERE user_id = ${p()})`,
    ),
    forgetGone: s((p) => `DELETE FROM ${users} WHERE user_id = ${p()} AND ${gone}`),
    list: s(
      (p) =>
        `SELECT s.session_key AS id FROM ${sessions} s JOIN ${users} u ON u.session_key = s.session_key WHERE u.user_id = ${p()} AND s.expire_date > ${p()}`,
    ),
    sweep: `DELETE FROM ${users} WHERE ${gone}`,
  }
}
