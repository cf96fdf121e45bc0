import { CliError, EXIT } from '../errors.ts'
import type { OpenStore } from '../open-store.ts'
import type { CliIo } from '../progress.ts'

/** `sessionbridge clear-expired`: deletes expired records, in batches, where the store keeps them. */
export async function clearExpiredCommand(store: OpenStore, io: CliIo): Promise<number> {
  const { backend } = store
  if (!backend.capabilities.clearExpired || !backend.clearExpired) {
    throw new CliError(
      `${backend.name} expires sessions by itself (a TTL per record): there is nothing to clear`,
      EXIT.unsupported,
    )
  }
  const removed = await backend.clearExpired()
  io.out(`removed ${removed} expired session${removed === 1 ? '' : 's'}\n`)
  return EXIT.ok
}
