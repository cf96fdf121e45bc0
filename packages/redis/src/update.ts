import { jsonCodec, SessionConflictError } from '@sessionbridge/core'
import {
  BoundedCache,
  randomString,
  type UpdateOptions,
  type UpdateResult,
} from '@sessionbridge/core/adapter'
import { DATA, type DecodedHash, type hashCodec } from './hash.ts'
import { PKG, type RedisContext } from './io.ts'
import { TURN_MS, UPDATE } from './scripts.ts'
import type { UserIndex } from './user-index.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** The longest pause while another writer holds the turn: it needs one round trip to finish. */
const TURN_POLL_MS = 2
/**
 * A writer still waiting after this long takes a place in the field's line (ms). Shorter waits stay
 * first come, first served: a hand-off costs the new holder a try against the hash it had, so
 * lining up every waiter would cost a round trip per write (it kept a quarter of the throughput).
 */
const LINE_AFTER_MS = 10
/** The first in line asks again at once during a turn's first ms (then every TURN_POLL_MS). */
const CLOSE_WATCH_MS = 5
/** Sessions whose last written hash is kept, and the largest hash kept (characters): 4 MiB at most. */
const LAST_WRITTEN_SIZE = 256
const LAST_WRITTEN_CHARS = 16_384
const textLength = (flat: unknown[]) => {
  let n = 0
  for (const item of flat) n += typeof item === 'string' ? item.length : 0
  return n
}

/**
 * `update()` for Redis: optimistic compare-and-set of one hash field. Read the hash (HGETALL),
 * run `fn`, then one script writes the new value only if the field still holds the text read; on
 * a mismatch the script answers the fresh hash and gives this call the field's turn (scripts.ts),
 * so the retry costs one round trip, not two, and is not overtaken. A call that meets another's
 * turn waits for it (a few ms, at most TURN_MS) without spending an attempt; one that has waited
 * LINE_AFTER_MS holds a place in the field's line, so the turn comes to it (scripts.ts).
 * Round trips: attempts, +1 for the read unless this process wrote the session last (+2 when the
 * user index's score must move, as for a save).
 */
export function redisUpdate(ctx: RedisContext, hash: ReturnType<typeof hashCodec>, index: UserIndex | null) {
  const { sessionKey, script, send } = ctx
  // The hash each session had after this process's last update of it (the script's flat answer:
  // strings only, so no caller can change it). The next update of that session starts from it
  // instead of reading: when another process wrote since, the compare fails and its answer is the
  // fresh hash, which costs what the read would have.
  const lastWritten = new BoundedCache<string, unknown[]>(LAST_WRITTEN_SIZE)
  // Turn tokens need only be unique among the writers of one field at one time: a random prefix
  // per backend object and a counter (no random bytes per update).
  const tokens = `${randomString(10, 'abcdefghijklmnopqrstuvwxyz0123456789')}.`
  let issued = 0
  return async (
    id: string,
    key: string,
    fn: (current: unknown) => unknown,
    options: UpdateOptions,
  ): Promise<UpdateResult | null> => {
    const field = `${DATA}${key}`
    const token = `${tokens}${(issued++).toString(36)}`
    // Waiting on turns is bounded too: every turn ends within TURN_MS.
    const waitUntil = Date.now() + options.maxAttempts * TURN_MS
    const known = lastWritten.get(id)
    // A kept hash that reads as expired may have been extended by another process since: read.
    let current = (known && (await hash.decodeHash(id, known))) ?? null
    if (current === null)
      current = await hash.decodeHash(id, await send('update', sessionKey(id), ['HGETALL', sessionKey(id)]))
    let tried: string[] | null = null // the script's arguments for `current`, kept across waits
    let waitingSince = 0 // when this call was first told to wait, 0 while it is not waiting
    for (let attempt = 1; attempt <= options.maxAttempts; ) {
      if (current === null) return null
      if (tried === null) {
        const value = fn(Object.hasOwn(current.data, key) ? current.data[key] : undefined)
        const read = current.raw.get(key)
        tried = [
          field,
          read === undefined ? '' : `=${read}`,
          value === undefined ? '' : `=${await hash.encodeValue(key, value)}`,
          String(options.expiresAt),
          ctx.codec === jsonCodec ? '1' : '0',
          '',
          '',
        ]
      }
      // The last try takes no turn: it would hold one it never uses.
      tried[5] = attempt < options.maxAttempts ? token : ''
      tried[6] = waitingSince !== 0 && Date.now() - waitingSince >= LINE_AFTER_MS ? '1' : ''
      const reply = await script('update', UPDATE, sessionKey(id), tried)
      if (!Array.isArray(reply)) {
        lastWritten.delete(id)
        return null
      }
      const [outcome, answer, place] = reply as [unknown, unknown, unknown]
      if (outcome === 2) {
        // Another writer's turn. Once it has written, this try fails against the fresh hash and
        // takes the turn itself, so the one after wins.
        if (Date.now() >= waitUntil) break
        if (waitingSince === 0) waitingSince = Date.now()
        // The first in line is handed the turn by the holder's write, a round trip away: it asks
        // again at once while the turn is young (a holder slower than that is not waited on so
        // closely); everyone else every TURN_POLL_MS.
        const left = Number(answer)
        if (place === 1 && TURN_MS - left < CLOSE_WATCH_MS) await new Promise(setImmediate)
        else await sleep(Math.min(left, TURN_POLL_MS))
        continue
      }
      waitingSince = 0
      const after: DecodedHash | null = await hash.decodeHash(id, answer)
      if (outcome === 1 && after !== null) {
        const flat = answer as unknown[]
        if (textLength(flat) <= LAST_WRITTEN_CHARS) lastWritten.set(id, flat)
        else lastWritten.delete(id)
        if (index && after.userId !== null)
          await index.keepIndexed('update', id, after.userId, options.expiresAt, after.indexed)
        return { value: Object.hasOwn(after.data, key) ? after.data[key] : undefined, data: after.data }
      }
      current = after
      tried = null
      attempt++
    }
    throw new SessionConflictError(PKG, key, options.maxAttempts)
  }
}
