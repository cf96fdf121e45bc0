import { CliError, EXIT } from '../errors.ts'
import type { OpenStore } from '../open-store.ts'
import type { CliIo } from '../progress.ts'

/**
 * `sessionbridge migrate`: creates the native SQL table and indexes, or (django layout with
 * `--user-table`) the user table (idempotent).
 */
export async function migrateCommand(store: OpenStore, io: CliIo): Promise<number> {
  if (!store.migrate) {
    throw new CliError(`${store.backend.name} has no schema to create: nothing to migrate`, EXIT.unsupported)
  }
  await store.migrate()
  io.out('schema is up to date\n')
  return EXIT.ok
}
