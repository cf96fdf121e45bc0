import type { AdoptedSession, SessionAdopter, SessionData } from '@sessionbridge/core'

export type { AdoptedSession, SessionAdopter }

/** Where a library kept its sessions, read-and-delete only. */
export interface ForeignStore {
  /** The stored session object, or `null`. */
  get(id: string): Promise<Record<string, unknown> | null>
  destroy(id: string): Promise<void>
}

/** Finds the user id in a foreign session's data. */
export type UserIdOf = (data: SessionData) => string | null

/**
 * The usual places: Passport's `passport.user`, then `userId`, `user_id`, `user.id`. Numbers
 * become strings; anything else is "no user".
 */
export const defaultUserIdOf: UserIdOf = (data) => {
  const passport = data.passport as { user?: unknown } | undefined
  const user = data.user as { id?: unknown } | undefined
  for (const candidate of [passport?.user, data.userId, data.user_id, user?.id]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate
    if (typeof candidate === 'number' && Number.isFinite(candidate)) return String(candidate)
  }
  return null
}

/** A copy of `data` in a null-prototype object, without `drop`'s keys. */
export function appData(data: Record<string, unknown>, drop: readonly string[]): SessionData {
  const out: SessionData = Object.create(null)
  for (const [key, value] of Object.entries(data)) if (!drop.includes(key)) out[key] = value
  return out
}
