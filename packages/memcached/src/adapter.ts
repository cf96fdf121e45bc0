/** An item as read by `get`: its value, CAS token and remaining lifetime. */
export interface MemcachedItem {
  /** The stored value, UTF-8 text. */
  value: string
  /** The item's CAS token, decimal (64 bits: kept as text). */
  cas: string
  /** Seconds the item has left before this read (meta `t`); `-1` when it never expires. */
  ttl: number
}

/** How `set` stores: unconditionally, only when absent (`add`), only when present (`replace`). */
export type SetMode = 'set' | 'add' | 'replace'

/** What `set` did: `exists` = the CAS token did not match, `not_found` = a CAS write to a missing key. */
export type StoreResult = 'stored' | 'not_stored' | 'exists' | 'not_found'

/** What `delete` did: `exists` = the CAS token did not match. */
export type DeleteResult = 'deleted' | 'not_found' | 'exists'

/** Options of `MemcachedClientAdapter.set`. */
export interface SetOptions {
  /** memcached exptime: seconds (up to 30 days) or an absolute unix time beyond that. */
  exptime: number
  /** @default 'set' */
  mode?: SetMode
  /** Store only if the item still has this CAS token. */
  cas?: string
}

/**
 * The few operations the session backend and ticket store need from a memcached client. The
 * built-in client (`createMemcachedClient`) implements it on the meta protocol; to bring your
 * own client, wrap it in an object of this shape. Keys reach it already validated (printable
 * ASCII, at most 250 bytes). Each method throws only for I/O failure.
 */
export interface MemcachedClientAdapter {
  /**
   * The item, or `null` when absent. With `touch` (an exptime), the expiry moves in the same
   * round trip (meta `mg <key> v c t T<exptime>`); `ttl` is then the lifetime before the touch.
   */
  get(key: string, options?: { touch?: number }): Promise<MemcachedItem | null>
  /** Stores `value` (meta `ms`, with `M<mode>`, `C<cas>`, `T<exptime>`). */
  set(key: string, value: string, options: SetOptions): Promise<StoreResult>
  /** Deletes the item, only if its CAS token matches when `cas` is given (meta `md`). */
  delete(key: string, options?: { cas?: string }): Promise<DeleteResult>
  /** Moves the expiry of an existing item; `false` when it is absent (never creates it). */
  touch(key: string, exptime: number): Promise<boolean>
  /** Largest value the client accepts, in bytes, if it knows. */
  readonly maxValueBytes?: number
  /** Closes the client's connections. */
  close?(): Promise<void>
}
