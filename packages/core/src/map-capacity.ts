/** Options of `MapCapacity`. */
export interface MapCapacityOptions<K, V> {
  /** Most entries the map keeps. */
  max: number
  /** Whether an entry has expired at `now`: expired entries go before live ones. */
  expired: (value: V, now: number) => boolean
  /** The owner's clock (epoch ms): read only when a sweep runs, so an insert below `max` costs none. */
  now: () => number
  /** Called for every entry dropped, after its deletion (for an owner's other indexes). */
  dropped?: (key: K, value: V) => void
}

/**
 * Keeps a `Map` (insertion order = age) at its capacity in constant time per insert, for the
 * in-process stores: the sessions of `memoryBackend`, the attempt counters, the tickets.
 *
 * The two obvious ways are linear in the size, per insert: sweeping every expired entry each time
 * the map is full, and `map.keys().next()` for the oldest (V8 keeps deleted entries' slots until
 * a rehash, and a new iterator walks them all from the start). At 100,000 entries that cost
 * 0.5-2.3 ms per insert: a flood of new keys could take a core. Here the sweep runs at most once
 * per `max / 2` inserts past the limit, and the oldest come from one iterator kept across calls,
 * which passes each slot once.
 */
export class MapCapacity<K, V> {
  readonly #map: Map<K, V>
  readonly #max: number
  readonly #sweepEvery: number
  readonly #expired: (value: V, now: number) => boolean
  readonly #now: () => number
  readonly #dropped: ((key: K, value: V) => void) | undefined
  #sinceSweep: number
  #oldest: Iterator<K> | undefined

  constructor(map: Map<K, V>, options: MapCapacityOptions<K, V>) {
    this.#map = map
    this.#max = options.max
    this.#sweepEvery = Math.max(1, Math.floor(options.max / 2))
    this.#sinceSweep = this.#sweepEvery // the first time the map is full, it sweeps
    this.#expired = options.expired
    this.#now = options.now
    this.#dropped = options.dropped
  }

  /** Call after an insert: beyond `max`, drops expired entries, then the oldest. */
  enforce(): void {
    if (this.#map.size <= this.#max) return
    if (++this.#sinceSweep >= this.#sweepEvery) {
      this.#sinceSweep = 0
      const now = this.#now()
      for (const [key, value] of this.#map) if (this.#expired(value, now)) this.#drop(key, value)
    }
    while (this.#map.size > this.#max) this.#dropOldest()
  }

  #drop(key: K, value: V): void {
    this.#map.delete(key)
    this.#dropped?.(key, value)
  }

  /**
   * Every entry before the iterator's position has been dropped here or deleted and set again
   * (which moves it to the end), so the next key it yields is the oldest in the map.
   */
  #dropOldest(): void {
    let next = this.#oldest?.next()
    if (next === undefined || next.done) {
      this.#oldest = this.#map.keys()
      next = this.#oldest.next()
    }
    if (next.done) return
    this.#drop(next.value, this.#map.get(next.value) as V)
  }
}
