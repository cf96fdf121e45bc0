import { createHash } from 'node:crypto'
import type { MemcachedClientAdapter } from './adapter.ts'
import { isValidKey } from './keys.ts'
import { decodeStoredSession } from './record.ts'

/** Ids an index holds before its first check for dead ones. */
const MIN_CHECK_AT = 16
/**
 * Seconds a listed id whose session is not there yet is kept: a login lists its id before it
 * writes the session, so a check running in between must not drop it.
 */
const GRACE_SECONDS = 300
const MAGIC = 'sbu1'

/** What the user index needs from the backend that owns it. */
export interface UserIndexContext {
  client: MemcachedClientAdapter
  /** The session prefix; an index lives at `<prefix>user:<user id, URI-encoded or hashed>`. */
  prefix: string
  /** The session's key, or `null` for an id not of the format (never sent). */
  keyOf(id: string): string | null
  /** Writes tried when concurrent logins of one user keep changing its index. */
  casAttempts: number
  /** exptime of an index item: `0` = never expires. */
  exptime(): number
  /** Clock, epoch ms. */
  now(): number
}

/** One listed session: its id and when it was listed (epoch seconds). */
interface Entry {
  id: string
  at: number
}
interface Index {
  checkAt: number
  entries: Entry[]
}

const parse = (value: string): Index | null => {
  const [magic, checkAt, ...rest] = value.split(' ')
  const n = Number(checkAt)
  if (magic !== MAGIC || !Number.isInteger(n) || n < 1) return null
  const entries: Entry[] = []
  for (const text of rest) {
    const at = text.lastIndexOf('@')
    if (at > 0) entries.push({ id: text.slice(0, at), at: Number(text.slice(at + 1)) || 0 })
  }
  return { checkAt: n, entries }
}
const format = (index: Index) =>
  [MAGIC, String(index.checkAt), ...index.entries.map((e) => `${e.id}@${e.at}`)].join(' ')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A listed session as found: still this user's (with its CAS), gone, or now someone else's. */
type Found =
  | { entry: Entry; state: 'owned'; key: string; cas: string }
  | { entry: Entry; state: 'gone' | 'other' }

/**
 * "Log out everywhere" on a store that cannot scan: one item per user listing the ids of their
 * sessions (`sbu1 <checkAt> <id>@<listed at> ...`), changed only under CAS. A login (a create, or
 * a save that sets the user) lists its id before the session is written, so no session is ever
 * live unlisted: 2 round trips per login, none on other requests. Ids of sessions that ended stay
 * listed until the list grows past `checkAt`; then each listed session is read (in parallel), the
 * live ones of this user are kept (and ids listed in the last 5 minutes, whose login may still be
 * writing), and `checkAt` becomes twice their number (at least 16): O(1) reads per login on
 * average. `destroy` reads each listed session and deletes it only if it still belongs to the
 * user, under its CAS (a save racing it is read again).
 */
export function memcachedUserIndex(ctx: UserIndexContext) {
  const { client, keyOf } = ctx
  const indexKey = (userId: string): string => {
    const plain = `${ctx.prefix}user:${encodeURIComponent(userId)}`
    if (isValidKey(plain)) return plain
    // `:` is always encoded by encodeURIComponent, so `h:` never collides with a plain id.
    return `${ctx.prefix}user:h:${createHash('sha256').update(userId).digest('hex')}`
  }
  const nowSeconds = () => Math.floor(ctx.now() / 1000)

  /** Reads each listed session (in parallel) and says whose it is now. */
  const inspect = (userId: string, entries: Entry[]): Promise<Found[]> =>
    Promise.all(
      entries.map(async (entry): Promise<Found> => {
        const key = keyOf(entry.id)
        const item = key ? await client.get(key) : null
        if (!item) return { entry, state: 'gone' }
        if (decodeStoredSession(item.value)?.userId !== userId) return { entry, state: 'other' }
        return { entry, state: 'owned', key: key!, cas: item.cas }
      }),
    )
  /** Entries worth keeping: live sessions of the user, and fresh ids whose session may be coming. */
  const keep = (found: Found[]) => {
    const fresh = nowSeconds() - GRACE_SECONDS
    return found
      .filter((f) => f.state === 'owned' || (f.state === 'gone' && f.entry.at >= fresh))
      .map((f) => f.entry)
  }

  /**
   * Changes the user's index under CAS: `change` gets the current index (empty when absent) and
   * returns the new one, or `null` to write nothing. An index that becomes empty is deleted.
   */
  const rewrite = async (userId: string, change: (index: Index) => Promise<Index | null>): Promise<void> => {
    const key = indexKey(userId)
    for (let attempt = 1; attempt <= ctx.casAttempts; attempt++) {
      const item = await client.get(key)
      const current = (item && parse(item.value)) ?? { checkAt: MIN_CHECK_AT, entries: [] }
      const next = await change(current)
      if (next === null) return
      let done: boolean
      if (next.entries.length === 0) {
        if (!item) return
        const result = await client.delete(key, { cas: item.cas })
        done = result === 'deleted' || result === 'not_found'
      } else {
        const exptime = ctx.exptime()
        const options = item ? { exptime, cas: item.cas } : { exptime, mode: 'add' as const }
        done = (await client.set(key, format(next), options)) === 'stored'
      }
      if (done) return
      // Another login or revoke changed the index in between: read it again after a short pause.
      await sleep(Math.random() * Math.min(2 ** attempt, 25))
    }
    throw new Error(`the user index kept changing: ${ctx.casAttempts} writes tried`)
  }

  return {
    /** Lists `id` in the user's index; call it before the session with that user is written. */
    add(userId: string, id: string): Promise<void> {
      return rewrite(userId, async (index) => {
        const entries = index.entries.filter((e) => e.id !== id)
        entries.push({ id, at: nowSeconds() })
        if (entries.length <= index.checkAt) return { checkAt: index.checkAt, entries }
        const kept = keep(await inspect(userId, entries.slice(0, -1))).concat(entries.at(-1)!)
        return { checkAt: Math.max(MIN_CHECK_AT, 2 * kept.length), entries: kept }
      })
    },
    /** Ids of the user's live sessions. */
    async list(userId: string): Promise<string[]> {
      const item = await client.get(indexKey(userId))
      const index = item && parse(item.value)
      if (!index) return []
      const found = await inspect(userId, index.entries)
      return found.filter((f) => f.state === 'owned').map((f) => f.entry.id)
    },
    /** Deletes every listed session that still belongs to the user; returns how many. */
    async destroy(userId: string): Promise<number> {
      let removed = 0
      await rewrite(userId, async (index) => {
        let entries = index.entries
        for (let round = 0; round < 3; round++) {
          const found = await inspect(userId, entries)
          const owned = found.filter((f) => f.state === 'owned')
          const results = await Promise.all(owned.map((f) => client.delete(f.key, { cas: f.cas })))
          removed += results.filter((r) => r === 'deleted').length
          // `exists`: that session was saved in between; read it again in the next round.
          const again = new Set(owned.filter((_, i) => results[i] === 'exists').map((f) => f.entry.id))
          entries = keep(found.filter((f) => f.state === 'gone' || again.has(f.entry.id)))
          if (again.size === 0) break
        }
        return { checkAt: index.checkAt, entries }
      })
      return removed
    },
  }
}

export type MemcachedUserIndex = ReturnType<typeof memcachedUserIndex>
