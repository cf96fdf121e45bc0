import type { SqlDialect } from './client.ts'
import { djangoTime } from './dialect.ts'
import type { SqlLayout } from './schema.ts'

/** Every statement one backend sends, built once from the dialect, layout and quoted table. */
export interface SessionStatements {
  load: string
  /** Insert-if-absent; on MySQL a plain INSERT whose duplicate-key error means "taken". */
  insert: string
  /** PostgreSQL native layout only: the change set applied in one statement (jsonb `-` and `||`). */
  patch: string | null
  /** The locked read of read-merge-write (`FOR UPDATE` where the database has it). */
  lockedRead: string
  /** The write of read-merge-write. */
  write: string
  touch: string
  destroy: string
  destroyUser: string | null
  listUser: string | null
  clearBatch: string
  /** A stored time for `now`/`expiresAt`: epoch ms (native) or the dialect's datetime (Django). */
  time: (ms: number) => number | string
}

/**
 * Builds the statements. `table` is already validated and quoted; `batchSize` is a validated
 * whole number (LIMIT takes it literally because MySQL's prepared LIMIT is unreliable); every
 * other value is a `?` bound at run time.
 */
export function sessionStatements(
  dialect: SqlDialect,
  layout: SqlLayout,
  table: string,
  batchSize: number,
): SessionStatements {
  const pg = dialect === 'postgres'
  const mysql = dialect === 'mysql'
  const forUpdate = dialect === 'sqlite' ? '' : ' FOR UPDATE' // SQLite: BEGIN IMMEDIATE already holds the write lock
  const limitedDelete = (key: string, where: string) =>
    mysql
      ? `DELETE FROM ${table} WHERE ${where} LIMIT ${batchSize}`
      : `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ${batchSize})`
  const ifAbsent = (key: string) => (mysql ? '' : ` ON CONFLICT (${key}) DO NOTHING`)

  if (layout === 'native') {
    // `?::text::jsonb`: the parameter is text, so no driver serializes it as JSON a second time.
    const json = pg ? '?::text::jsonb' : '?'
    return {
      load: `SELECT ${pg ? 'data::text' : 'data'} AS data, expires_at, user_id FROM ${table} WHERE id = ? AND expires_at > ?`,
      insert: `INSERT INTO ${table} (id, data, expires_at, user_id) VALUES (?, ${json}, ?, ?)${ifAbsent('id')}`,
      patch: pg
        ? `UPDATE ${table} SET data = (data - ARRAY(SELECT jsonb_array_elements_text(?::text::jsonb))) || ?::text::jsonb, expires_at = ?, user_id = ?, version = version + 1 WHERE id = ? AND expires_at > ? AND jsonb_typeof(data) = 'object'`
        : null,
      lockedRead: `SELECT data FROM ${table} WHERE id = ? AND expires_at > ?${forUpdate}`,
      write: `UPDATE ${table} SET data = ${json}, expires_at = ?, user_id = ?, version = version + 1 WHERE id = ?`,
      touch: `UPDATE ${table} SET expires_at = ? WHERE id = ? AND expires_at > ?`,
      destroy: `DELETE FROM ${table} WHERE id = ?`,
      destroyUser: `DELETE FROM ${table} WHERE user_id = ?`,
      listUser: `SELECT id FROM ${table} WHERE user_id = ? AND expires_at > ?`,
      clearBatch: limitedDelete('id', 'expires_at <= ?'),
      time: (ms) => ms,
    }
  }
  const time = djangoTime(dialect)
  return {
    load: `SELECT session_data, ${time.column} AS expire_date FROM ${table} WHERE session_key = ? AND expire_date > ?`,
    insert: `INSERT INTO ${table} (session_key, session_data, expire_date) VALUES (?, ?, ?)${ifAbsent('session_key')}`,
    patch: null,
    lockedRead: `SELECT session_data FROM ${table} WHERE session_key = ? AND expire_date > ?${forUpdate}`,
    write: `UPDATE ${table} SET session_data = ?, expire_date = ? WHERE session_key = ?`,
    touch: `UPDATE ${table} SET expire_date = ? WHERE session_key = ? AND expire_date > ?`,
    destroy: `DELETE FROM ${table} WHERE session_key = ?`,
    destroyUser: null,
    listUser: null,
    // Django's clearsessions deletes `expire_date < now`.
    clearBatch: limitedDelete('session_key', 'expire_date < ?'),
    time: time.toDb,
  }
}
