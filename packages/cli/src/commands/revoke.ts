import { CliError, EXIT } from '../errors.ts'
import type { OpenStore } from '../open-store.ts'
import type { CliIo } from '../progress.ts'
import { walkSessions } from '../walk.ts'

/**
 * `sessionbridge revoke --user ID`: logs a user out everywhere. Uses the store's user index where
 * it has one (memcached's per-user item, the Django layout's `--user-table`); a store without one
 * that can be listed (Django's `django_session`) is walked whole, with a progress display; a store
 * that can do neither is refused, changing nothing.
 */
export async function revokeCommand(store: OpenStore, io: CliIo, userId: string): Promise<number> {
  const { backend } = store
  let removed: number
  if (backend.capabilities.destroyUser && backend.destroyUser) {
    removed = await backend.destroyUser(userId)
  } else if (store.lister) {
    removed = 0
    await walkSessions(store, io, 'revoke: sessions checked', async (id, record) => {
      if (record.userId !== userId) return
      await backend.destroy(id)
      removed += 1
    })
  } else {
    throw new CliError(
      `${backend.name} cannot find a user's sessions (no user index, cannot be listed): nothing was changed`,
      EXIT.unsupported,
    )
  }
  io.out(`revoked ${removed} session${removed === 1 ? '' : 's'} of user ${userId}\n`)
  return EXIT.ok
}
