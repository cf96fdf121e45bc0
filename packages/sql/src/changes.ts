import type { SessionData } from '@sessionbridge/core'
import type { ChangeSet } from '@sessionbridge/core/adapter'

/** Copies `data` with a change set applied; `defineProperty` so a key named `__proto__` stays data. */
export function applyChanges(data: SessionData, changes: ChangeSet): SessionData {
  const out: SessionData = { ...data }
  for (const key of changes.deleted) delete out[key]
  for (const [key, value] of Object.entries(changes.set)) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}
