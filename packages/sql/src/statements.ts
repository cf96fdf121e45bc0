import { sqlStatement } from '@sessionbridge/core/adapter'
import type { SqlDialect } from './client.ts'
import { djangoTime } from './dialect.ts'
import type { SqlLayout } from './schema.ts'

/** Every statement one backend sends, built once from the dialect, layout and quoted table. */
export interface SessionStatements {
  load: string
  /** Insert-if-absent; on MySQL a plain INSERT whose duplicate-key error means "taken". */
  insert: string
  /** The locked read of read-merge-write and of update (`FOR UPDATE` where the database has it). */
  lockedRead: string
  /** The write of read-merge-write and of update. */
  write: string
  /**
   * The Django layout's one-statement save: the write, only while the row still holds the
   * `session_data` text the request loaded (byte for byte) and has not expired. `null`: native.
   */
  writeIfUnchanged: string | null
  touch: string
  destroy: string
  destroyUser: string | null
  listUser: string | null
  clearBatch: string
  /** A stored time for `now`/`expiresAt`: epoch ms (native) or the dialect's datetime (Django). */
  time: (ms: number) => number | string
}

/** What differs between the three databases, in one small controller each. */
interface DialectSql {
  /** A bound parameter that holds JSON text, for a native `data` column. */
  json(param: string): string
  /** The native `data` column as text in a select. */
  dataText: string
  /** One text of columns already text (or numbers the database writes as digits), in order. */
  concat(parts: string[]): string
  /** A text column's length in characters (code points), the way the database counts them. */
  characters(column: string): string
  /** Suffix of the locked read. */
  forUpdate: string
  /** Suffix of an insert that must not replace an existing row. */
  ifAbsent(key: string): string
  /** A delete of at most `batch` rows matching `where`. */
  limitedDelete(table: string, key: string, where: string, batch: number): string
  /** `column` holds exactly the text `param`: byte equality, whatever the column's collation. */
  sameText(column: string, param: string): string
}

const DIALECTS: Readonly<Record<SqlDialect, DialectSql>> = {
  postgres: {
    // `::text::jsonb`: the parameter is text, so no driver serializes it as JSON a second time.
    json: (param) => `${param}::text::jsonb`,
    dataText: 'data::text',
    concat: (parts) => parts.join(' || '),
    characters: (column) => `char_length(${column})`,
    forUpdate: ' FOR UPDATE',
    ifAbsent: (key) => ` ON CONFLICT (${key}) DO NOTHING`,
    limitedDelete: (table, key, where, batch) =>
      `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ${batch})`,
    sameText: (column, param) => `${column} = ${param}`, // deterministic collations compare bytes
  },
  mysql: {
    json: (param) => param,
    dataText: 'data',
    concat: (parts) => `CONCAT(${parts.join(', ')})`,
    characters: (column) => `CHAR_LENGTH(${column})`,
    forUpdate: ' FOR UPDATE',
    ifAbsent: () => '', // INSERT IGNORE would hide other errors: the duplicate-key error is caught instead
    limitedDelete: (table, _key, where, batch) => `DELETE FROM ${table} WHERE ${where} LIMIT ${batch}`,
    // Django's longtext usually has a case-insensitive collation: compare the bytes.
    sameText: (column, param) => `CAST(${column} AS BINARY) = CAST(${param} AS BINARY)`,
  },
  sqlite: {
    json: (param) => param,
    dataText: 'data',
    concat: (parts) => parts.join(' || '),
    characters: (column) => `length(${column})`,
    forUpdate: '', // BEGIN IMMEDIATE already holds the write lock
    ifAbsent: (key) => ` ON CONFLICT (${key}) DO NOTHING`,
    limitedDelete: (table, key, where, batch) =>
      `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ${batch})`,
    sameText: (column, param) => `${column} = ${param}`, // BINARY, SQLite's default collation
  },
}

/**
 * Builds the statements in the database's own placeholder syntax. `table` is already validated
 * and quoted; `batchSize` is a validated whole number (LIMIT takes it literally because MySQL's
 * prepared LIMIT is unreliable); every other value is bound at run time.
 */
export function sessionStatements(
  dialectName: SqlDialect,
  layout: SqlLayout,
  table: string,
  batchSize: number,
): SessionStatements {
  const d = DIALECTS[dialectName]
  const s = (build: (p: () => string) => string) => sqlStatement(dialectName, build)
  if (layout === 'native') {
    const userText = d.concat([d.characters('user_id'), "' '", 'user_id'])
    // SQLite: a session without a user skips the concatenation that COALESCE would discard (a
    // better-sqlite3 load in a loop: 7,658 against 7,471 instructions), and the space after the
    // version is part of either branch's text: one concatenation fewer (7,999 against 7,841).
    const loadedParts =
      dialectName === 'sqlite'
        ? [
            'expires_at',
            "' '",
            'version',
            `CASE WHEN user_id IS NULL THEN ' -' ELSE ${d.concat(["' '", userText])} END`,
            d.dataText,
          ]
        : ['expires_at', "' '", `COALESCE(${userText}, '-')`, d.dataText]
    return {
      // One text column, `<expires_at> <user><data>` (SQLite and D1, whose save writes a row still
      // at the loaded version whole, `versionedSave`: `<expires_at> <version> <user><data>`), read
      // apart by `nativeRow`: a driver's work grows with every column of every row (pg: its
      // description, decoding, the row object; about 2.5k instructions a column). The expiry is
      // checked on the row read, not bound: one value less to send, the clock's reading never
      // turned into text.
      load: s((p) => `SELECT ${d.concat(loadedParts)} AS loaded FROM ${table} WHERE id = ${p()}`),
      insert: s(
        (p) =>
          `INSERT INTO ${table} (id, data, expires_at, user_id) VALUES (${p()}, ${d.json(p())}, ${p()}, ${p()})${d.ifAbsent('id')}`,
      ),
      lockedRead: s(
        (p) =>
          `SELECT ${d.dataText} AS data, user_id FROM ${table} WHERE id = ${p()} AND expires_at > ${p()}${d.forUpdate}`,
      ),
      write: s(
        (p) =>
          `UPDATE ${table} SET data = ${d.json(p())}, expires_at = ${p()}, user_id = ${p()}, version = version + 1 WHERE id = ${p()}`,
      ),
      writeIfUnchanged: null,
      touch: s((p) => `UPDATE ${table} SET expires_at = ${p()} WHERE id = ${p()} AND expires_at > ${p()}`),
      destroy: s((p) => `DELETE FROM ${table} WHERE id = ${p()}`),
      destroyUser: s((p) => `DELETE FROM ${table} WHERE user_id = ${p()}`),
      listUser: s((p) => `SELECT id FROM ${table} WHERE user_id = ${p()} AND expires_at > ${p()}`),
      clearBatch: s((p) => d.limitedDelete(table, 'id', `expires_at <= ${p()}`, batchSize)),
      time: (ms) => ms,
    }
  }
  const time = djangoTime(dialectName)
  return {
    load: s(
      (p) =>
        `SELECT session_data, ${time.column} AS expire_date FROM ${table} WHERE session_key = ${p()} AND expire_date > ${p()}`,
    ),
    insert: s(
      (p) =>
        `INSERT INTO ${table} (session_key, session_data, expire_date) VALUES (${p()}, ${p()}, ${p()})${d.ifAbsent('session_key')}`,
    ),
    lockedRead: s(
      (p) =>
        `SELECT session_data FROM ${table} WHERE session_key = ${p()} AND expire_date > ${p()}${d.forUpdate}`,
    ),
    write: s(
      (p) => `UPDATE ${table} SET session_data = ${p()}, expire_date = ${p()} WHERE session_key = ${p()}`,
    ),
    writeIfUnchanged: s(
      (p) =>
        `UPDATE ${table} SET session_data = ${p()}, expire_date = ${p()} WHERE session_key = ${p()} AND ${d.sameText('session_data', p())} AND expire_date > ${p()}`,
    ),
    touch: s(
      (p) => `UPDATE ${table} SET expire_date = ${p()} WHERE session_key = ${p()} AND expire_date > ${p()}`,
    ),
    destroy: s((p) => `DELETE FROM ${table} WHERE session_key = ${p()}`),
    destroyUser: null,
    listUser: null,
    // Django's clearsessions deletes `expire_date < now`.
    clearBatch: s((p) => d.limitedDelete(table, 'session_key', `expire_date < ${p()}`, batchSize)),
    time: time.toDb,
  }
}
