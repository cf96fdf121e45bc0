import type { SessionRecord } from '@sessionbridge/core'
import {
  type ChangeSet,
  changesKey,
  type UpdateOptions,
  type UpdateResult,
} from '@sessionbridge/core/adapter'
import { applyChanges } from './changes.ts'
import type { SqlClient } from './client.ts'
import type { SqlSessionData } from './data.ts'
import type { ResolvedSqlBackendOptions } from './options.ts'
import type { SessionStatements } from './statements.ts'

/** Called in the transaction when a write changed the session's user (the Django layout's user table). */
export type UserChangeHook = (tx: SqlClient, id: string, userId: string | null) => Promise<void>

/**
 * The two read-modify-writes of the SQL backend, both under a row lock in one transaction
 * (`SELECT ... FOR UPDATE`; SQLite: `BEGIN IMMEDIATE`), so they never conflict and never retry:
 * concurrent writers wait for the lock instead. Round trips on PostgreSQL and MariaDB: BEGIN,
 * locked read, write, COMMIT = 4 (SQLite: in-process, no network). A Django-layout save first tries
 * one conditional write of what the request loaded (`writeIfUnchanged`).
 */
export function lockedWrites(
  resolved: ResolvedSqlBackendOptions,
  sql: SessionStatements,
  data: SqlSessionData,
  onUserChange: UserChangeHook | null = null,
) {
  const { client, django, now, userIdKey } = resolved

  /**
   * The Django layout's save when the request loaded the row (`record.version`: the loaded
   * `session_data` text) and changed no user the user table tracks: `record.data` is then exactly
   * the merge, so one conditional UPDATE writes it (1 round trip instead of 4). `false` when the row
   * changed meanwhile (or expired, or went): then the locked merge decides.
   */
  const writeIfUnchanged = async (id: string, changes: ChangeSet, record: SessionRecord) => {
    const userChanged = changesKey(changes, userIdKey)
    if (sql.writeIfUnchanged === null || record.version === undefined || (onUserChange && userChanged))
      return false
    const text = await data.encode(record.data)
    const params = [text, sql.time(record.expiresAt), id, record.version, sql.time(now())]
    return (await client.query(sql.writeIfUnchanged, params)).rowCount > 0
  }

  /** Applies a change set to the stored data (the save when no one-statement patch applies: `patch.ts`). */
  const merge = async (id: string, changes: ChangeSet, record: SessionRecord): Promise<boolean> =>
    (await writeIfUnchanged(id, changes, record)) || (await lockedMerge(id, changes, record))

  const lockedMerge = (id: string, changes: ChangeSet, record: SessionRecord): Promise<boolean> =>
    client.transaction(async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(sql.lockedRead, [id, sql.time(now())])
      const row = rows[0]
      if (!row) return false
      const stored = await data.decode(django ? row.session_data : row.data)
      if (!stored) {
        data.undecodable()
        return false // never overwrite what we cannot read
      }
      const merged = applyChanges(stored, changes)
      const text = await data.encode(merged)
      const params = django
        ? [text, sql.time(record.expiresAt), id]
        : [text, record.expiresAt, record.userId, id]
      const written = (await tx.query(sql.write, params)).rowCount > 0
      const user = data.userOf(merged)
      if (written && onUserChange && user !== data.userOf(stored)) await onUserChange(tx, id, user)
      return written
    })

  /** `update()`: `fn` runs on the locked row's value; the stored user stays as it is. */
  const update = (
    id: string,
    key: string,
    fn: (current: unknown) => unknown,
    options: UpdateOptions,
  ): Promise<UpdateResult | null> =>
    client.transaction(async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(sql.lockedRead, [id, sql.time(now())])
      const row = rows[0]
      if (!row) return null
      const stored = await data.decode(django ? row.session_data : row.data)
      if (!stored) return data.undecodable()
      const value = fn(Object.hasOwn(stored, key) ? stored[key] : undefined)
      const change: ChangeSet =
        value === undefined ? { set: {}, deleted: [key] } : { set: { [key]: value }, deleted: [] }
      const merged = applyChanges(stored, change)
      const text = await data.encode(merged)
      const userId = row.user_id == null ? null : String(row.user_id)
      const params = django ? [text, sql.time(options.expiresAt), id] : [text, options.expiresAt, userId, id]
      await tx.query(sql.write, params)
      const user = data.userOf(merged) // the Django layout's user is whatever its data says
      if (onUserChange && user !== data.userOf(stored)) await onUserChange(tx, id, user)
      const after = (await data.decode(text))! // what a later load returns (the codec's own round trip)
      return { value: Object.hasOwn(after, key) ? after[key] : undefined, data: after }
    })

  return { merge, update }
}

/** The locked read-modify-writes of one backend (`lockedWrites`). */
export type LockedWrites = ReturnType<typeof lockedWrites>
