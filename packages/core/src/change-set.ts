import { plainData } from './codec-json.ts'
import type { ChangeSet } from './types.ts'

/** What a session's change map marks a deleted key with. */
export const DELETED: unique symbol = Symbol('deleted')
/** One key's pending change: its new value, or `DELETED`. */
export type Change = { value: unknown } | typeof DELETED

/**
 * The `ChangeSet` a save hands its backend, read off the session's change map when first asked:
 * a backend that writes the record whole at the version the request loaded (the memory backend,
 * SQLite's versioned save) never reads `set` or `deleted`, and building them (an object, a
 * megamorphic store per key, the map's iteration) cost every such save about 300 instructions.
 * The map is the commit's own: the session writes no change once its commit began.
 */
export class PendingChangeSet implements ChangeSet {
  readonly #changes: ReadonlyMap<string, Change>
  #set: Record<string, unknown> | null = null
  #deleted: string[] | null = null
  // Declared only: present on a change set that carries them, absent (not `undefined`) otherwise.
  declare read?: Record<string, string | null>
  declare expiryKept?: boolean

  constructor(changes: ReadonlyMap<string, Change>) {
    this.#changes = changes
  }

  get set(): Record<string, unknown> {
    if (this.#set === null) this.#split()
    return this.#set!
  }

  get deleted(): string[] {
    if (this.#deleted === null) this.#split()
    return this.#deleted!
  }

  #split(): void {
    const set = plainData()
    const deleted: string[] = []
    for (const [key, change] of this.#changes) {
      if (change === DELETED) deleted.push(key)
      else set[key] = change.value
    }
    this.#set = set
    this.#deleted = deleted
  }

  /** `set` and `deleted` as own properties, as a plain change set has them (`JSON.stringify`, a spread). */
  toJSON(): ChangeSet {
    const plain: ChangeSet = { set: this.set, deleted: this.deleted }
    if (this.read !== undefined) plain.read = this.read
    if (this.expiryKept !== undefined) plain.expiryKept = this.expiryKept
    return plain
  }
}
