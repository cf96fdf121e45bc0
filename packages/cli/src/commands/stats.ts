import { CliError, EXIT } from '../errors.ts'
import type { OpenStore } from '../open-store.ts'
import type { CliIo } from '../progress.ts'
import { walkSessions } from '../walk.ts'

/** What `stats` counts. */
export interface SessionStats {
  store: string
  sessions: number
  anonymous: number
  users: number
  /** The users with the most sessions, most first. */
  top: Array<{ user: string; sessions: number }>
}

/**
 * `sessionbridge stats`: live sessions in the store and per user (walks the store with a progress
 * display). With `--user ID` on a store with a user index, only that user's count, from the index.
 */
export async function statsCommand(
  store: OpenStore,
  io: CliIo,
  options: { user?: string; top: number; json: boolean },
): Promise<number> {
  const { backend } = store
  if (options.user !== undefined && backend.capabilities.listUser && backend.listUser) {
    const ids = await backend.listUser(options.user)
    io.out(
      options.json ? `${JSON.stringify({ user: options.user, sessions: ids.length })}\n` : `${ids.length}\n`,
    )
    return EXIT.ok
  }
  if (!store.lister) {
    throw new CliError(`${backend.name} cannot be listed: no statistics`, EXIT.unsupported)
  }
  const perUser = new Map<string, number>()
  let sessions = 0
  let anonymous = 0
  await walkSessions(store, io, 'stats: sessions read', (_id, record) => {
    sessions += 1
    if (record.userId === null) anonymous += 1
    else perUser.set(record.userId, (perUser.get(record.userId) ?? 0) + 1)
  })
  const stats: SessionStats = {
    store: backend.name,
    sessions,
    anonymous,
    users: perUser.size,
    top: [...perUser]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, options.top)
      .map(([user, count]) => ({ user, sessions: count })),
  }
  if (options.user !== undefined) {
    const count = perUser.get(options.user) ?? 0
    io.out(options.json ? `${JSON.stringify({ user: options.user, sessions: count })}\n` : `${count}\n`)
  } else if (options.json) {
    io.out(`${JSON.stringify(stats)}\n`)
  } else {
    io.out(
      `store:     ${stats.store}\nsessions:  ${sessions}\nanonymous: ${anonymous}\nusers:     ${stats.users}\n`,
    )
    for (const row of stats.top) io.out(`  ${row.user}: ${row.sessions}\n`)
  }
  return EXIT.ok
}
