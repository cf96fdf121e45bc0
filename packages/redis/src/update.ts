import { jsonCodec, SessionConflictError } from '@sessionbridge/core'
import type { UpdateOptions, UpdateResult } from '@sessionbridge/core/adapter'
import { DATA, type DecodedHash, type hashCodec } from './hash.ts'
import { PKG, type RedisContext } from './io.ts'
import { UPDATE } from './scripts.ts'
import type { UserIndex } from './user-index.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `update()` for Redis: optimistic compare-and-set of one hash field. Read the hash (HGETALL),
 * run `fn`, then one script writes the new value only if the field still holds the text read; on
 * a mismatch the script answers the fresh hash, so a retry costs one round trip, not two.
 * Round trips: 1 + attempts (+2 when the user index's score must move, as for a save).
 */
export function redisUpdate(ctx: RedisContext, hash: ReturnType<typeof hashCodec>, index: UserIndex | null) {
  const { sessionKey, script, send } = ctx
  return async (
    id: string,
    key: string,
    fn: (current: unknown) => unknown,
    options: UpdateOptions,
  ): Promise<UpdateResult | null> => {
    const field = `${DATA}${key}`
    let current = await hash.decodeHash(id, await send('update', sessionKey(id), ['HGETALL', sessionKey(id)]))
    for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
      if (current === null) return null
      const value = fn(Object.hasOwn(current.data, key) ? current.data[key] : undefined)
      const read = current.raw.get(key)
      const args = [
        field,
        read === undefined ? '' : `=${read}`,
        value === undefined ? '' : `=${await hash.encodeValue(key, value)}`,
        String(options.expiresAt),
        ctx.codec === jsonCodec ? '1' : '0',
      ]
      const reply = await script('update', UPDATE, sessionKey(id), args)
      if (!Array.isArray(reply)) return null
      const [written, flat] = reply as [unknown, unknown]
      const after: DecodedHash | null = await hash.decodeHash(id, flat)
      if (written === 1 && after !== null) {
        if (index && after.userId !== null)
          await index.keepIndexed('update', id, after.userId, options.expiresAt, after.indexed)
        return { value: Object.hasOwn(after.data, key) ? after.data[key] : undefined, data: after.data }
      }
      current = after
      // Another writer got in between: a short random pause spreads out the writers that collided.
      if (attempt < options.maxAttempts) await sleep(Math.random() * Math.min(2 ** attempt, 25))
    }
    throw new SessionConflictError(PKG, key, options.maxAttempts)
  }
}
