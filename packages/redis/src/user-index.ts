import { USER, uidMarker } from './hash.ts'
import type { RedisContext } from './io.ts'
import { INDEX_ADD, INDEX_LIST, MARK_INDEXED } from './scripts.ts'

/** Most slack added to an index score (see `indexScore`). */
const INDEX_SLACK_MS = 3_600_000

/**
 * The per-user index behind `destroyUser` / `listUser`: a sorted set `<prefix>user:{<user id>}`
 * of session ids scored by expiry. Each session hash remembers the score it is known to have
 * (`m:idx`), so saves and touches update the index rarely.
 */
export function userIndex(ctx: RedisContext) {
  const { now, indexKey, sessionKey, script, send } = ctx
  /**
   * The score a session gets in its user's index: its expiry plus some slack (a quarter of its
   * remaining life, at most an hour), so that a session saved or touched again and again updates
   * the index rarely. The score only ever grows (ZADD GT), so it never drops below the expiry.
   */
  const indexScore = (expiresAt: number) =>
    expiresAt + Math.min(INDEX_SLACK_MS, Math.floor(Math.max(0, expiresAt - now()) / 4))
  const add = (operation: string, userId: string, id: string, score: number) =>
    script(operation, INDEX_ADD, indexKey(userId), [String(score), id, String(now())])
  /** Raises the session's score in the index when its new expiry passes the score last recorded. */
  const keepIndexed = async (
    operation: string,
    id: string,
    userId: string,
    expiresAt: number,
    known: unknown,
  ) => {
    if (Number(known) >= expiresAt) return
    const score = indexScore(expiresAt)
    await add(operation, userId, id, score)
    await script(operation, MARK_INDEXED, sessionKey(id), [String(score), uidMarker(userId)])
  }
  const remove = (operation: string, userId: string, id: string) =>
    send(operation, indexKey(userId), ['ZREM', indexKey(userId), id])

  /** Ids in the user's index that still name a live session of that user; strays are removed. */
  const liveSessionsOf = async (operation: string, userId: string): Promise<string[]> => {
    const members = await script(operation, INDEX_LIST, indexKey(userId), [String(now())])
    const ids = Array.isArray(members) ? members.filter((m): m is string => typeof m === 'string') : []
    const owners = await Promise.all(
      ids.map((id) => send(operation, sessionKey(id), ['HGET', sessionKey(id), USER])),
    )
    const live: string[] = []
    const strays: string[] = []
    for (const [i, id] of ids.entries()) (owners[i] === uidMarker(userId) ? live : strays).push(id)
    if (strays.length > 0) await send(operation, indexKey(userId), ['ZREM', indexKey(userId), ...strays])
    return live
  }
  return { indexScore, add, keepIndexed, remove, liveSessionsOf }
}

export type UserIndex = ReturnType<typeof userIndex>
