import type { ChangeSet } from '@sessionbridge/core/adapter'
import { jsonText, sqlStatement } from '@sessionbridge/core/adapter'
import type { SqlDialect } from './client.ts'

/** One UPDATE and its bound values. */
export interface PatchQuery {
  text: string
  params: unknown[]
}

/**
 * A save's statements. `kept` matches only a row that holds the record's user already and, with an
 * expiry step, an expiry at most that step behind the record's, and writes neither column: naming
 * an indexed column in SET makes SQLite rewrite its index entry even when the value stays (about 5
 * µs of a 17 µs UPDATE on a WAL file each), PostgreSQL cannot make a changed expiry a HOT update,
 * and a session's user changes only where login and logout do not make a new session. `withUser`
 * writes both: the fallback when `kept` matched nothing (the user changed, the expiry is due, or
 * the row is gone).
 */
export interface PatchQueries {
  kept: PatchQuery
  withUser(): PatchQuery
  /**
   * The characters of the texts the save sends for its data (values and key paths): what merging
   * it can add to the stored JSON at most, for the size check (`sqlSessionData`'s `fitsUnchecked`).
   */
  dataChars: number
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
) => PatchQueries | null

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
 * The statement after `SET data = ...`: `kept` (see `PatchQueries`) or the one that writes the
 * expiry and the user; the version; the row's last condition (`last`, called after every other
 * placeholder: the patch's live-JSON-object match, the versioned save's version). `step`: the expiry
 * step, ms.
 */
function tail(p: () => string, kept: boolean, step: number, same: string, last: () => string): string {
  // Placeholders in the order of the parameters (PostgreSQL numbers them as `p()` is called).
  if (!kept)
    return `expires_at = ${p()}, user_id = ${p()}, version = version + 1 WHERE id = ${p()} AND expires_at > ${p()} AND ${last()}`
  // With a step, "live and at most `step` behind" is one range (`queries`): a value less to bind.
  return step > 0
    ? `version = version + 1 WHERE id = ${p()} AND user_id ${same} ${p()} AND expires_at BETWEEN ${p()} AND ${p()} AND ${last()}`
    : `expires_at = ${p()}, version = version + 1 WHERE id = ${p()} AND expires_at > ${p()} AND user_id ${same} ${p()} AND ${last()}`
}

/**
 * PostgreSQL's `kept` with a step when the range's lower end is the expiry less the step, not the
 * clock (nearly always): the expiry bound once, the step in the statement. pg sends every value as
 * text, and `String()` of a 13-digit millisecond count goes through V8's shortest-double printer (a
 * Fastify increment's two bounds: `FastDtoa` 1.0k instructions). Not core's `msText` for the one
 * left: called from here, Koa's PostgreSQL read cost 13k instructions more (173k, twice), not
 * understood yet.
 */
function keptFromExpiry(p: () => string, step: number, same: string, last: () => string): string {
  const id = p()
  const user = p()
  const bound = p()
  return `version = version + 1 WHERE id = ${id} AND user_id ${same} ${user} AND expires_at BETWEEN ${bound}::bigint - ${step} AND ${bound} AND ${last()}`
}

/** The statements of one save shape: `kept`, `withUser`, and PostgreSQL's `keptFromExpiry`. */
type SaveTexts = readonly [kept: string, withUser: string, keptFromExpiry?: string]

/** Both statements of one save over the same data parameters `head` (in `tail`'s order). */
function queries(
  texts: SaveTexts,
  step: number,
  head: readonly string[],
  record: { expiresAt: number; userId: string | null; id: string; now: number },
): PatchQueries {
  const { expiresAt, userId, id, now } = record
  let dataChars = 0
  for (const text of head) dataChars += text.length
  // expires_at > now, for the whole milliseconds the column holds: >= floor(now) + 1.
  const lowest = Math.floor(now) + 1
  const fromExpiry = texts[2] !== undefined && expiresAt - step >= lowest
  return {
    dataChars,
    kept: fromExpiry
      ? { text: texts[2]!, params: [...head, id, userId, expiresAt] }
      : {
          text: texts[0],
          params:
            step > 0
              ? [...head, id, userId, Math.max(lowest, expiresAt - step), expiresAt]
              : [...head, expiresAt, id, now, userId],
        },
    withUser: () => ({ text: texts[1], params: [...head, expiresAt, userId, id, now] }),
  }
}

/**
 * The patch builder of a dialect. PostgreSQL: one fixed statement (jsonb `-` and `||`, any key).
 * SQLite: `json_set(json_remove(data, paths), path, json(value), ...)`. MySQL/MariaDB: the same with
 * `JSON_SET`/`JSON_REMOVE` and `JSON_EXTRACT(?, '$')` for a value given as JSON text. `step`: the
 * expiry step, ms (`0`: every save writes the expiry).
 */
export function patchBuilder(dialect: SqlDialect, table: string, step = 0): PatchBuilder {
  if (dialect === 'postgres') {
    const isObject = () => "jsonb_typeof(data) = 'object'"
    const statement = (removes: boolean, kept: boolean | 'fromExpiry') =>
      sqlStatement(dialect, (p) => {
        const data = removes
          ? `(data - ARRAY(SELECT jsonb_array_elements_text(${p()}::text::jsonb)))`
          : 'data'
        const set = p() // placeholders in the order of the parameters: the data's, then the tail's
        const rest =
          kept === 'fromExpiry'
            ? keptFromExpiry(p, step, 'IS NOT DISTINCT FROM', isObject)
            : tail(p, kept, step, 'IS NOT DISTINCT FROM', isObject)
        return `UPDATE ${table} SET data = ${data} || ${set}::text::jsonb, ${rest}`
      })
    const texts = (removes: boolean): SaveTexts =>
      step > 0
        ? [statement(removes, true), statement(removes, false), statement(removes, 'fromExpiry')]
        : [statement(removes, true), statement(removes, false)]
    // Most saves delete nothing: no array to bind, expand and subtract.
    const setOnly = texts(false)
    const withRemovals = texts(true)
    return (changes, expiresAt, userId, id, now) => {
      const set = jsonText(changes.set)
      const removes = changes.deleted.length > 0
      const head = removes ? [JSON.stringify(changes.deleted), set] : [set]
      return queries(removes ? withRemovals : setOnly, step, head, { expiresAt, userId, id, now })
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
  const same = mysql ? '<=>' : 'IS'
  // Both statements of a shape (keys deleted, keys set), made together on its first save.
  const texts = new Map<string, readonly [kept: string, withUser: string]>()
  const textsFor = (deleted: number, setCount: number) => {
    const shape = `${deleted},${setCount}`
    let pair = texts.get(shape)
    if (pair === undefined) {
      const statement = (kept: boolean) =>
        sqlStatement(dialect, (p) => {
          let expr = 'data'
          if (deleted > 0) expr = `${remove}(${expr}, ${Array.from({ length: deleted }, p).join(', ')})`
          if (setCount > 0) {
            const pairs = Array.from({ length: setCount }, () => `${p()}, ${value(p())}`)
            expr = `${set}(${expr}, ${pairs.join(', ')})`
          }
          return `UPDATE ${table} SET data = ${expr}, ${tail(p, kept, step, same, () => isObject)}`
        })
      pair = [statement(true), statement(false)]
      texts.set(shape, pair)
    }
    return pair
  }
  return (changes, expiresAt, userId, id, now) => {
    const entries = Object.entries(changes.set)
    if (changes.deleted.length + entries.length > MAX_PATCH_KEYS) return null
    if (!changes.deleted.every(pathSafeKey)) return null
    const head: string[] = changes.deleted.map(pathOf)
    for (const [key, item] of entries) {
      const json = jsonText(item)
      if (json === undefined || !pathSafeKey(key)) return null // no JSON text: the merge drops it
      head.push(pathOf(key), json)
    }
    const pair = textsFor(changes.deleted.length, entries.length)
    return queries(pair, step, head, { expiresAt, userId, id, now })
  }
}

/**
 * SQLite's (and D1's) save of a row still at the `version` the request loaded: the session's data
 * written whole as this request holds it (the stored data with its changes), no JSON function run.
 * The patch statement parses the stored text and the values and writes the result, inside the
 * application's own process on SQLite (Fastify's increment: 9.5k instructions of the patch's
 * 131.6k a request). `kept` and `withUser` as for the patch (`PatchQueries`), each matching the
 * version too, made apart (the second is rarely needed); when neither matches (another request
 * wrote since, or the row is gone), the caller patches. `kept` is for a row that holds the
 * record's user at the loaded version (the caller knows: `saves.ts`); `expiryKept`
 * (`ChangeSet.expiryKept`): `expiresAt` is the expiry the row held at that version, so `kept` then
 * asks the version only (see `versionedSave`).
 */
export interface VersionedSave {
  kept(...args: [...Parameters<VersionedStatement>, expiryKept: boolean]): PatchQuery
  withUser: VersionedStatement
}

/** One statement of the versioned save, for the record's data `text` at the loaded `version`. */
type VersionedStatement = (
  text: string,
  version: number,
  expiresAt: number,
  userId: string | null,
  id: string,
  now: number,
) => PatchQuery

/**
 * The versioned save of a SQLite table; `step` as for `patchBuilder`. A row still at the loaded
 * version holds the user it was loaded with (every write of the user moves the version) and the
 * expiry too, unless a touch moved it since (touches leave the version). When the save keeps that
 * expiry and the user, their conditions are settled here (the loaded expiry live now) and `kept`
 * binds three values, not six, and writes neither column (an UPDATE in a loop: 21.1k against
 * 19.4k instructions; 22,851 against 22,484 without `user_id IS ?`).
 */
export function versionedSave(table: string, step = 0): VersionedSave {
  const statement = (kept: boolean) =>
    sqlStatement(
      'sqlite',
      (p) => `UPDATE ${table} SET data = ${p()}, ${tail(p, kept, step, 'IS', () => `version = ${p()}`)}`,
    )
  const texts = [statement(true), statement(false)] as const
  const keptAtVersion = sqlStatement(
    'sqlite',
    (p) => `UPDATE ${table} SET data = ${p()}, version = version + 1 WHERE id = ${p()} AND version = ${p()}`,
  )
  const withVersion = (query: PatchQuery, version: number): PatchQuery => {
    query.params.push(version)
    return query
  }
  return {
    kept(text, version, expiresAt, userId, id, now, expiryKept) {
      // Live (`expires_at > now`, for the whole milliseconds the column holds): else every
      // statement misses, as `tail`'s conditions would.
      if (expiryKept && expiresAt > Math.floor(now))
        return { text: keptAtVersion, params: [text, id, version] }
      return withVersion(queries(texts, step, [text], { expiresAt, userId, id, now }).kept, version)
    },
    // The fallback (the user changed, or another request wrote since) as `queries` writes it.
    withUser: (text, version, expiresAt, userId, id, now) =>
      withVersion(queries(texts, step, [text], { expiresAt, userId, id, now }).withUser(), version),
  }
}
