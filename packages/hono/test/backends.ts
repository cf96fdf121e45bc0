// The backends the error tests use: one whose store refuses every call, and a memory backend
// whose `create` calls are seen.
import { memoryBackend, type SessionBackend } from '@sessionbridge/core'

/** A logger for the failures a test expects. */
export const quiet = { warn() {} }

const refuse = async () => {
  throw new Error('db.internal:6379 refused')
}
/** A backend whose store is down: every load and create fails. */
export const broken = (): SessionBackend => ({
  ...memoryBackend(),
  name: 'broken',
  load: refuse,
  create: refuse,
})

/** The ids `backend.create` is called with from now on (its `create` wrapped in place). */
export function createdIds(backend: SessionBackend): string[] {
  const ids: string[] = []
  const create = backend.create.bind(backend)
  backend.create = (id, record) => {
    ids.push(id)
    return create(id, record)
  }
  return ids
}
