import type { SessionBackend } from '@sessionbridge/core'
import { backendCall, keepingAppErrors, settlingAtOnce } from '@sessionbridge/core/adapter'
import { sqlSessionData } from './data.ts'
import { isDuplicateKey, PKG, refusedData } from './dialect.ts'
import { recordLoader } from './loads.ts'
import { resolveSqlBackendOptions, type SqlBackendOptions } from './options.ts'
import { patchBuilder, versionedSave } from './patch.ts'
import { recordSaver } from './saves.ts'
import type { SqlLayout } from './schema.ts'
import { sessionStatements } from './statements.ts'
import { startSweeper } from './sweeper.ts'
import { lockedWrites, type UserChangeHook } from './update.ts'
import { userTableStatements } from './user-table.ts'

export { applyChanges } from './changes.ts'
export type { SqlBackendOptions } from './options.ts'

/** The backend, plus what it adds to the contract. */
export interface SqlBackend extends SessionBackend {
  readonly layout: SqlLayout
  clearExpired(): Promise<number>
  close(): Promise<void>
}

/**
 * Sessions in a relational database. `native` keeps JSON data with a user index; a save is one
 * statement applying the change set with the database's JSON functions (two when the user changes
 * or the expiry is due: `patch.ts`; keys a JSON path cannot name, and the `django` layout, take a
 * row lock in a transaction instead: read, merge the change set, write). Either way concurrent
 * writers of different keys all survive; `update` is the same row lock around one key. The parts:
 * `options.ts` (resolution), `data.ts` (encoding and size limits), `statements.ts` (SQL per
 * dialect), `loads.ts` and `saves.ts` (a session's load and save), `patch.ts` (one-statement
 * saves), `update.ts` (locked read-modify-writes), `sweeper.ts` (background clearExpired).
 */
export function sqlBackend(options: SqlBackendOptions): SqlBackend {
  const resolved = resolveSqlBackendOptions(options)
  const { client, django, layout, idFormat, batchSize, now } = resolved
  const sql = sessionStatements(resolved.dialect, layout, resolved.table, batchSize)
  const data = sqlSessionData(resolved)
  // The Django layout's user table, when configured: kept in step by create, the locked writes and destroy.
  const users = resolved.userTable
    ? userTableStatements(resolved.dialect, resolved.table, resolved.userTable)
    : null
  const setUser: UserChangeHook | null = users
    ? async (tx, id, userId) => {
        await tx.query(userId === null ? users.remove : users.upsert, userId === null ? [id] : [id, userId])
      }
    : null
  const locked = lockedWrites(resolved, sql, data, setUser)
  // The native layout's one-statement save; the Django layout's data is encoded, so it merges.
  const patch = django ? null : patchBuilder(resolved.dialect, resolved.table, resolved.expiryStepMs)

  const invalid = (id: string | null) => id !== null && (typeof id !== 'string' || !idFormat.validate(id))
  /** Runs one operation; bad ids never reach SQL, driver errors become typed errors. */
  const guarded = <T>(op: string, fallback: T, id: string | null, fn: () => Promise<T>): Promise<T> =>
    invalid(id) ? Promise.resolve(fallback) : backendCall(PKG, op, fn, refusedData)

  // SQLite and D1: a save of a row still at the version loaded writes the data whole (patch.ts).
  const versioned =
    !django && resolved.dialect === 'sqlite' ? versionedSave(resolved.table, resolved.expiryStepMs) : null
  const { load, loadAtOnce } = recordLoader(resolved, sql, data, versioned !== null)
  const save = recordSaver(resolved, data, { versioned, patch, locked })

  let stopSweeper: (() => void) | null = null
  const backend: SqlBackend = {
    name: PKG,
    layout,
    idFormat,
    capabilities: Object.freeze({
      merge: true,
      issuesIds: false,
      anonymous: true,
      // The Django layout keeps users only inside signed, encoded data: only its user table can say.
      destroyUser: !django || users !== null,
      listUser: !django || users !== null,
      clearExpired: true,
      update: true,
    }),
    // A load and a save map their own errors (loads.ts, saves.ts), not `guarded`'s: `backendCall`'s
    // `.catch` cost a promise, a microtask and a `then` lookup on the record; no closure either.
    load: (id) => (invalid(id) ? Promise.resolve(null) : load(id)),
    create: (proposedId, record) =>
      guarded('create', null, proposedId, async () => {
        const text = await data.encode(record.data)
        const params = django
          ? [proposedId, text, sql.time(record.expiresAt)]
          : [proposedId, text, record.expiresAt, record.userId]
        try {
          if ((await client.query(sql.insert, params)).rowCount === 0) return null
        } catch (error) {
          if (isDuplicateKey(error)) return null // MySQL has no ON CONFLICT DO NOTHING without side effects
          throw error
        }
        if (setUser && record.userId !== null) {
          // The row after the session: a listed key always has (or had) its session. Unlisted, no session.
          await setUser(client, proposedId, record.userId).catch(async (error: unknown) => {
            await client.query(sql.destroy, [proposedId]).catch(() => {})
            throw error
          })
        }
        return proposedId
      }),
    save: (id, changes, record) => (invalid(id) ? Promise.resolve(false) : save(id, changes, record)),
    update: (id, key, fn, updateOptions) =>
      keepingAppErrors(fn, (guardedFn) =>
        guarded('update', null, id, () => locked.update(id, key, guardedFn, updateOptions)),
      ),
    touch: (id, expiresAt) =>
      guarded('touch', false, id, async () => {
        return (await client.query(sql.touch, [sql.time(expiresAt), id, sql.time(now())])).rowCount > 0
      }),
    destroy: (id) =>
      guarded('destroy', undefined, id, async () => {
        await client.query(sql.destroy, [id])
        if (users) await client.query(users.remove, [id])
      }),
    clearExpired: () =>
      guarded('clearExpired', 0, null, async () => {
        const cutoff = sql.time(now())
        let total = 0
        for (;;) {
          const { rowCount } = await client.query(sql.clearBatch, [cutoff])
          total += rowCount
          if (rowCount < batchSize) break
        }
        if (users) await client.query(users.sweep) // rows of sessions that expired or Django deleted
        return total
      }),
    async close() {
      stopSweeper?.()
      stopSweeper = null
    },
  }
  if (!django) {
    backend.destroyUser = (userId) =>
      guarded(
        'destroyUser',
        0,
        null,
        async () => (await client.query(sql.destroyUser!, [String(userId)])).rowCount,
      )
    backend.listUser = (userId) =>
      guarded('listUser', [], null, async () => {
        const { rows } = await client.query<{ id: unknown }>(sql.listUser!, [String(userId), now()])
        return rows.map((r) => String(r.id))
      })
  }
  if (users) {
    backend.destroyUser = (userId) =>
      guarded('destroyUser', 0, null, async () => {
        const { rowCount } = await client.query(users.destroySessions, [String(userId)])
        await client.query(users.forgetGone, [String(userId)]) // a login racing this keeps its row
        return rowCount
      })
    backend.listUser = (userId) =>
      guarded('listUser', [], null, async () => {
        const { rows } = await client.query<{ id: unknown }>(users.list, [String(userId), sql.time(now())])
        return rows.map((r) => String(r.id))
      })
  }
  if (resolved.interval > 0)
    stopSweeper = startSweeper(resolved.interval, backend.clearExpired, resolved.logger)
  // A client whose waits end by themselves (`sqliteClient`): the native layout's loads and saves
  // need no deadline (the Django layout's run its codec too, and keep one).
  if (django || client.waitsBounded !== true) return backend
  return settlingAtOnce(backend, loadAtOnce ? (id) => (invalid(id) ? null : loadAtOnce(id)) : undefined)
}
