import type { ChangeSet } from './types.ts'

/** Whether the change set sets or deletes `key` (a backend asks this of the user-id key, say). */
export function changesKey(changes: ChangeSet, key: string): boolean {
  return Object.hasOwn(changes.set, key) || changes.deleted.includes(key)
}
