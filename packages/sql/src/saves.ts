import type { SessionRecord } from '@sessionbridge/core'
import { backendError, type ChangeSet, countDigits } from '@sessionbridge/core/adapter'
import type { SqlSessionData } from './data.ts'
import { PKG, refusedData } from './dialect.ts'
import type { ResolvedSqlBackendOptions } from './options.ts'
import type { PatchBuilder, VersionedSave } from './patch.ts'
import type { LockedWrites } from './update.ts'

/** What a save written at once answers: one settled promise, shared. */
const SAVED = Promise.resolve(true)

const typedError = (error: unknown) => backendError(PKG, 'save', error, refusedData)

/** The statements a save may take, by layout and dialect (made once by the backend). */
export interface SaveStatements {
  /** SQLite's and D1's save of a row still at the loaded version (`versionedSave`). */
  versioned: VersionedSave | null
  /** The native layout's one-statement patch; `null`: the Django layout, which merges. */
  patch: PatchBuilder | null
  locked: LockedWrites
}

/**
 * The backend's `save` (its id already valid): on SQLite the row still at the loaded version
 * written whole, else the native layout's patch, else the locked merge (`update.ts`), in that
 * order as each misses. `true` when the session was written. Driver errors become typed errors.
 */
export function recordSaver(
  resolved: ResolvedSqlBackendOptions,
  data: SqlSessionData,
  { versioned, patch, locked }: SaveStatements,
): (id: string, changes: ChangeSet, record: SessionRecord) => Promise<boolean> {
  const { client, now } = resolved

  /**
   * Where the loaded version token (`nativeRow`: `<version> <user>`) ends its version: the versioned
   * save's only reading of it; -1 without a token (no version: the patch writes).
   */
  const versionEnd = (record: SessionRecord): number =>
    versioned === null || record.version === undefined ? -1 : record.version.indexOf(' ')
  /**
   * The loaded version a save writes at, counted out of its digits (`Number()` of a string: about
   * 300 instructions); NaN without one, or past 15 digits: the patch then writes.
   */
  const versionOf = (record: SessionRecord, end: number): number =>
    end < 0 ? Number.NaN : countDigits(record.version!, 0, end)
  /**
   * Whether the row at the loaded version holds the record's user: the version token's user part
   * after `end` (`-`, or `<characters> <user_id>` ending the token) names it. When not (a login, a
   * logout keeping the session), `kept` would miss: the save goes to `withUser` at once.
   */
  const holdsUser = ({ version: token, userId }: SessionRecord, end: number): boolean => {
    const at = end + 1
    if (userId === null) return token!.length === at + 1 && token!.charCodeAt(at) === 0x2d
    const space = token!.indexOf(' ', at)
    return space > at && token!.length - space - 1 === userId.length && token!.endsWith(userId)
  }
  /** The data's JSON for a versioned save, checked; `null` when the save has no version to write at. */
  const versionedText = (record: SessionRecord, version: number): string | null => {
    if (!Number.isSafeInteger(version)) return null
    const text = data.encodeJson(record.data)
    return typeof text === 'string' ? text : null // a promise only for MySQL's packet limit: never here
  }

  /**
   * The versioned save answered at once where the client can (`queryAtOnce`): a row still at the
   * loaded version is written without an `await`; anything else goes on in `saveRecord`.
   */
  const saveAtOnce = (id: string, changes: ChangeSet, record: SessionRecord): Promise<boolean> => {
    let tried = false
    try {
      const end = versionEnd(record)
      const version = versionOf(record, end)
      const text = versionedText(record, version)
      if (text !== null && holdsUser(record, end)) {
        const { expiresAt, userId } = record
        const kept = versioned!.kept(text, version, expiresAt, userId, id, now(), changes.expiryKept === true)
        const result = client.queryAtOnce!(kept.text, kept.params)
        if (result !== null && result.rowCount > 0) return SAVED
        tried = result !== null
      }
    } catch (error) {
      return Promise.reject(typedError(error))
    }
    return saveRecord(id, changes, record, tried)
  }

  /** `keptTried`: `saveAtOnce` ran the versioned save's first statement, which wrote nothing. */
  const saveRecord = async (
    id: string,
    changes: ChangeSet,
    record: SessionRecord,
    keptTried = false,
  ): Promise<boolean> => {
    try {
      const end = versionEnd(record)
      const version = versionOf(record, end)
      const text = versionedText(record, version)
      if (text !== null) {
        const { expiresAt, userId } = record
        const at = now()
        if (!keptTried && holdsUser(record, end)) {
          const kept = versioned!.kept(text, version, expiresAt, userId, id, at, changes.expiryKept === true)
          if ((await client.query(kept.text, kept.params)).rowCount > 0) return true
        }
        const withUser = versioned!.withUser(text, version, expiresAt, userId, id, at)
        if ((await client.query(withUser.text, withUser.params)).rowCount > 0) return true
      }
      const queries = patch?.(changes, record.expiresAt, record.userId, id, now())
      // Awaited: an async function returning the promise itself would wrap it in another.
      if (!queries) return await locked.merge(id, changes, record)
      // The merged size, as this request sees it, when its bound does not settle it (never on
      // SQLite, whose version is the row's); a promise only when MySQL's limit must be asked.
      if (versioned !== null || !data.fitsUnchecked(record.version, queries.dataChars)) {
        const checked = data.encodeJson(record.data)
        if (typeof checked !== 'string') await checked
      }
      if ((await client.query(queries.kept.text, queries.kept.params)).rowCount > 0) return true
      // No row holds this user and a recent expiry: one changed (or the row is gone, answered here too).
      const withUser = queries.withUser()
      return (await client.query(withUser.text, withUser.params)).rowCount > 0
    } catch (error) {
      throw typedError(error)
    }
  }
  return versioned !== null && client.queryAtOnce ? saveAtOnce : saveRecord
}
