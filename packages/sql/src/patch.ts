import type { ChangeSet } from '@sessionbridge/core/adapter'
import { sqlStatement } from '@sessionbridge/core/adapter'
import type { SqlDialect } from './client.ts'

/** One UPDATE and its bound values. */
export interface PatchQuery {
  text: string
  params: unknown[]
}

/**
 * Builds the one-statement save of the native layout: the change set applied to the stored JSON
 * by the database, plus the expiry and user columns, matching only a live row whose data is a JSON
 * object (an undecodable row is never overwritten: the save reports the session gone, as the
 * read-merge-write does). `null` when this change set cannot be one statement: the caller then
 * falls back to read-merge-write.
 */
export type PatchBuilder = (
  changes: ChangeSet,
  expiresAt: number,
  userId: string | null,
  id: string,
  now: number,
) => PatchQuery | null

/** Most keys one patch statement names (each is two bound values); larger saves read-merge-write. */
export const MAX_PATCH_KEYS = 100

/**
 * A key the JSON path syntax of SQLite and MySQL/MariaDB can carry as a quoted label `$."key"`:
 * neither has an escape both honour, so `"`, `\`, control characters (which `JSON.stringify`
 * stores escaped, so a raw label would not match) and lone surrogates go the read-merge-write way.
 */
export function pathSafeKey(key: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  return !/["\\\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(
    key,
  )
}

/** The path of one top-level key, bound as a value (both databases take a path expression). */
const pathOf = (key: string): string => `$."${key}"`

/**
 * The patch builder of a dialect. PostgreSQL: one fixed statement (jsonb `-` and `||`, any key).
 * SQLite: `json_set(json_remove(data, paths), path, json(value), ...)`. MySQL/MariaDB: the same with
 * `JSON_SET`/`JSON_REMOVE` and `JSON_EXTRACT(?, '$')` for a value given as JSON text.
 */
export function patchBuilder(dialect: SqlDialect, table: string): PatchBuilder {
  if (dialect === 'postgres') {
    const statement = (removes: boolean) =>
      sqlStatement(dialect, (p) => {
        const kept = removes
          ? `(data - ARRAY(SELECT jsonb_array_elements_text(${p()}::text::jsonb)))`
          : 'data'
        return `UPDATE ${table} SET data = ${kept} || ${p()}::text::jsonb, expires_at = ${p()}, user_id = ${p()}, version = version + 1 WHERE id = ${p()} AND expires_at > ${p()} AND jsonb_typeof(data) = 'object'`
      })
    const withRemovals = statement(true)
    // Most saves delete nothing: no array to bind, expand and subtract.
    const setOnly = statement(false)
    return (changes, expiresAt, userId, id, now) => {
      const set = JSON.stringify(changes.set)
      return changes.deleted.length === 0
        ? { text: setOnly, params: [set, expiresAt, userId, id, now] }
        : { text: withRemovals, params: [JSON.stringify(changes.deleted), set, expiresAt, userId, id, now] }
    }
  }
  const mysql = dialect === 'mysql'
  const remove = mysql ? 'JSON_REMOVE' : 'json_remove'
  const set = mysql ? 'JSON_SET' : 'json_set'
  const value = mysql ? (p: string) => `JSON_EXTRACT(${p}, '$')` : (p: string) => `json(${p})`
  // CASE: JSON_TYPE/json_type raise an error on text that is not JSON; the row must just not match.
  const isObject = mysql
    ? `CASE WHEN JSON_VALID(data) THEN JSON_TYPE(data) END = 'OBJECT'`
    : `CASE WHEN json_valid(data) THEN json_type(data) END = 'object'`
  const texts = new Map<string, string>()
  const textFor = (deleted: number, setCount: number): string => {
    const shape = `${deleted},${setCount}`
    let text = texts.get(shape)
    if (text === undefined) {
      text = sqlStatement(dialect, (p) => {
        let expr = 'data'
        if (deleted > 0) expr = `${remove}(${expr}, ${Array.from({ length: deleted }, p).join(', ')})`
        if (setCount > 0) {
          const pairs = Array.from({ length: setCount }, () => `${p()}, ${value(p())}`)
          expr = `${set}(${expr}, ${pairs.join(', ')})`
        }
        return `UPDATE ${table} SET data = ${expr}, expires_at = ${p()}, user_id = ${p()}, version = version + 1 WHERE id = ${p()} AND expires_at > ${p()} AND ${isObject}`
      })
      texts.set(shape, text)
    }
    return text
  }
  return (changes, expiresAt, userId, id, now) => {
    const entries = Object.entries(changes.set)
    if (changes.deleted.length + entries.length > MAX_PATCH_KEYS) return null
    if (!changes.deleted.every(pathSafeKey)) return null
    const params: unknown[] = changes.deleted.map(pathOf)
    for (const [key, item] of entries) {
      const json: string | undefined = JSON.stringify(item)
      if (json === undefined || !pathSafeKey(key)) return null // no JSON text: the merge drops it
      params.push(pathOf(key), json)
    }
    params.push(expiresAt, userId, id, now)
    return { text: textFor(changes.deleted.length, entries.length), params }
  }
}
