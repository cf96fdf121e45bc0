/**
 * A cache of at most `size` entries, kept in two generations of `Map`: new entries go into the
 * current one; when it holds half the size, it becomes the previous one and the old previous is
 * dropped whole. A hit in the previous generation moves the entry to the current one, so what is
 * in use stays.
 *
 * Why not one `Map` that deletes its first key when full: V8 keeps a deleted entry's slot in the
 * table until the next rehash, and `keys().next()` walks over every such slot from the start, so
 * evicting one entry per insert costs time linear in the size: 10 µs per insert at 10,000
 * entries, 17 µs at 100,000, against under 1 µs here (Node 20).
 */
export class BoundedCache<K, V> {
  #current = new Map<K, V>()
  #previous = new Map<K, V>()
  readonly #half: number

  /** `size`: most entries kept (a whole number >= 0; `0` keeps nothing). */
  constructor(size: number) {
    this.#half = size > 0 ? Math.max(1, Math.floor(size / 2)) : 0
  }

  get(key: K): V | undefined {
    const hit = this.#current.get(key)
    if (hit !== undefined || this.#previous.size === 0) return hit
    const old = this.#previous.get(key)
    if (old !== undefined) this.set(key, old) // takes it out of the previous generation too
    return old
  }

  set(key: K, value: V): void {
    if (this.#half === 0) return
    this.#previous.delete(key)
    this.#current.set(key, value)
    if (this.#current.size >= this.#half) {
      this.#previous = this.#current
      this.#current = new Map()
    }
  }

  /** The value for `key`, made by `make` and kept when missing. */
  getOrSet(key: K, make: () => V): V {
    let value = this.get(key)
    if (value === undefined) {
      value = make()
      this.set(key, value)
    }
    return value
  }

  delete(key: K): void {
    this.#current.delete(key)
    this.#previous.delete(key)
  }

  /** Entries held now: at most the size given. */
  get size(): number {
    return this.#current.size + this.#previous.size
  }
}
