import type { SessionRecord } from '@sessionbridge/core'
import type { OpenStore } from './open-store.ts'
import { type CliIo, createProgress } from './progress.ts'

/** Loads at a time per page: enough to hide round trips, few enough to spare a busy store. */
const CONCURRENCY = 8

/**
 * Loads every live session the store lists, calling `visit` for each, with a progress display.
 * Expired and undecodable records load as `null` and are skipped. Returns how many ids were seen.
 */
export async function walkSessions(
  store: OpenStore,
  io: CliIo,
  label: string,
  visit: (id: string, record: SessionRecord) => Promise<void> | void,
): Promise<number> {
  const lister = store.lister!
  const progress = createProgress(io, label, await lister.estimate())
  let seen = 0
  for await (const page of lister.pages()) {
    for (let start = 0; start < page.length; start += CONCURRENCY) {
      const slice = page.slice(start, start + CONCURRENCY).filter((id) => store.backend.idFormat.validate(id))
      const records = await Promise.all(slice.map((id) => store.backend.load(id)))
      for (const [index, record] of records.entries()) {
        if (record) await visit(slice[index]!, record)
      }
    }
    seen += page.length
    progress.advance(page.length)
  }
  progress.done()
  return seen
}
