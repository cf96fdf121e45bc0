/** Session data: a JSON-like map. Backends store it through a codec. */
export type SessionData = Record<string, unknown>

/** What a backend stores for one session. */
export interface SessionRecord<Data extends SessionData = SessionData> {
  /** The session's data, including the reserved keys the lifecycle keeps (see `RESERVED_KEYS`). */
  data: Data
  /** When the record stops being valid, epoch milliseconds. Backends set their own TTL from it. */
  expiresAt: number
  /**
   * The logged-in user's id, copied from the data by the lifecycle (`userIdKey`), so backends can
   * index sessions by user for "log out everywhere". `null` for an anonymous session.
   */
  userId: string | null
  /**
   * An opaque token a backend may return from `load` (memcached: the CAS value). The lifecycle
   * hands it back in the record given to `save`, so a backend can try one conditional write of
   * `data` before falling back to reading and merging. Absent for records not loaded.
   */
  version?: string
}

/** The keys one request changed: the values set and the keys deleted. Never both for one key. */
export interface ChangeSet {
  set: Record<string, unknown>
  deleted: string[]
  /**
   * For each changed key the request had loaded before changing it, the value it loaded as JSON
   * text (`null`: absent). A backend that detects a concurrent write (memcached's CAS) uses it to
   * never replace a newer stored value with one derived from an older read. Given only to a backend
   * that declares `capabilities.readBasis` (the JSON costs every write), and absent when the
   * request did not load the record.
   */
  read?: Record<string, string | null>
  /**
   * The record's `expiresAt` is the one `load` gave: the idle expiry moves at most once per
   * `touchInterval`, and this write is not the one. A store whose server slides the expiry by
   * itself and takes a ttl, not an instant (rest-sessions), leaves its ttl as it is. @default false
   */
  expiryKept?: boolean
}

/** Generates and recognises session ids. Validation runs before any backend call. */
export interface IdFormat {
  /** A fresh id from a CSPRNG, 128 bits of randomness or more. */
  generate(): string
  /** True when `id` is of this format. Must be cheap and never throw. */
  validate(id: string): boolean
}

/** Turns session data into the string a backend stores, and back. */
export interface SessionCodec {
  readonly name: string
  encode(data: SessionData): Promise<string>
  /** `null` when the stored value cannot be decoded (tampered, foreign, truncated): "no session". */
  decode(stored: string): Promise<SessionData | null>
  /** The id format this codec's peers expect (Django: 32 x [a-z0-9]), if it has one. */
  readonly idFormat?: IdFormat
}

/** Optional abilities of a backend. Declared, never guessed. */
export interface BackendCapabilities {
  /** `save()` merges the change set atomically: concurrent writers of different keys both survive. */
  merge: boolean
  /** The backend chooses ids itself (rest-sessions); `create()` ignores the proposed id. */
  issuesIds: boolean
  /** The backend can hold a session with no user (rest-sessions cannot). */
  anonymous: boolean
  /** `destroyUser()` is implemented. */
  destroyUser: boolean
  /** `listUser()` is implemented. */
  listUser: boolean
  /** `clearExpired()` is implemented. */
  clearExpired: boolean
  /**
   * `update()` is implemented: a read-modify-write of one key that runs against the value current
   * in the store, atomically (no lost update under concurrent writers of the same key).
   */
  update: boolean
  /**
   * The store slides each record's expiry by a lifetime fixed at create and cannot change it later
   * (the original rest-sessions server): `touch()` moves the expiry by that lifetime only, and the
   * lifecycle re-creates the session (new id, data copied, old one destroyed) when its max age
   * changes, so the cookie never claims longer than the store keeps the record. Absent = false.
   */
  fixedTtl?: boolean
  /**
   * `save()` reads `ChangeSet.read` (what the request loaded of each key it changed): the
   * lifecycle works it out for such a backend only. Absent = false.
   */
  readBasis?: boolean
}

/** Options the lifecycle passes to `SessionBackend.update()`. */
export interface UpdateOptions {
  /** The record's expiry after the update, epoch milliseconds (the backend sets its TTL from it). */
  expiresAt: number
  /** The logged-in user's id as the lifecycle knows it (for backends that index by user). */
  userId: string | null
  /** How many times the backend may re-read and re-apply `fn` on a conflict before giving up. */
  maxAttempts: number
  /** `expiresAt` is the record's stored expiry, kept (see `ChangeSet.expiryKept`). @default false */
  expiryKept?: boolean
}

/** What `SessionBackend.update()` returns for a record that exists. */
export interface UpdateResult {
  /** The value `fn` returned, as stored (`undefined` = the key was deleted). */
  value: unknown
  /** The record's data after the update (all keys, as the store now holds them). */
  data: SessionData
}

/**
 * The contract every session store implements. Only I/O failure throws (`SessionBackendError`,
 * with `cause`); "not found", "expired" and "undecodable" are answers (`null`, `false`).
 *
 * Undecodable records (one rule for every backend, checked by `testBackend`): `load` answers
 * `null` and logs a warning; `save` and `update` treat the record as gone (`false` / `null`) and
 * never overwrite it, since another stack or a rotated key may still read it; `create` does not
 * take its id; `destroy` removes it; `touch` may move its expiry (it never changes data).
 */
export interface SessionBackend {
  /** Short name used in error messages, e.g. `memory`, `redis`. */
  readonly name: string
  /**
   * What the backend can do. A backend that learns it from its server declares only what is
   * certain until `ready()` has resolved (e.g. `merge: false`), never more.
   */
  readonly capabilities: BackendCapabilities
  /**
   * Resolves once `capabilities` are final (e.g. after asking the server which extensions it
   * offers); rejects with `SessionBackendError` when the server cannot be asked (retried on the
   * next call). The lifecycle awaits it before it reads a capability to decide what to do. Absent:
   * the capabilities are final from the start.
   */
  ready?(): Promise<void>
  /** Format of the ids this backend stores; the lifecycle validates cookies against it. */
  readonly idFormat: IdFormat
  /**
   * The record, or `null` when missing, expired or undecodable (log a warning for the last). A
   * `data` object made by `plainData()` is handed over: the lifecycle changes it as its own, so it
   * must be a fresh one each call that the backend keeps no hold of. Any other object is copied.
   */
  load(id: string): Promise<SessionRecord | null>
  /**
   * Stores a new record. Backends that take ids insert under `proposedId` and return it, or return
   * `null` when that id is taken (the lifecycle retries with a fresh id). Backends that issue ids
   * ignore `proposedId` and return their own.
   */
  create(proposedId: string, record: SessionRecord): Promise<string | null>
  /**
   * Applies a request's changes. Merging backends apply `changes` to the stored data atomically;
   * the others write `record` whole. Returns `false`, and writes nothing, when the record no longer
   * exists (destroyed or expired meanwhile): a logout racing a write wins.
   */
  save(id: string, changes: ChangeSet, record: SessionRecord): Promise<boolean>
  /** Moves the expiry without rewriting data. `false` when the record no longer exists. */
  touch(id: string, expiresAt: number): Promise<boolean>
  /** Removes the record. Removing a missing record is not an error. */
  destroy(id: string): Promise<void>
  /** Removes every session of a user; returns how many. Present when `capabilities.destroyUser`. */
  destroyUser?(userId: string): Promise<number>
  /** Ids of a user's live sessions. Present when `capabilities.listUser`. */
  listUser?(userId: string): Promise<string[]>
  /**
   * Read-modify-write of one key, atomic against the store: `fn` receives the value currently
   * stored under `key` (`undefined` when absent) and returns the new value (`undefined` deletes the
   * key). On a concurrent change the backend re-reads and calls `fn` again, at most
   * `options.maxAttempts` times in all, then throws `SessionConflictError`; it never writes a value
   * computed from a stale read. `fn` must be pure (it may run several times). Returns `null`, and
   * writes nothing, when the record no longer exists. Present when `capabilities.update`.
   */
  update?(
    id: string,
    key: string,
    fn: (current: unknown) => unknown,
    options: UpdateOptions,
  ): Promise<UpdateResult | null>
  /** Deletes expired records; returns how many. Present when `capabilities.clearExpired`. */
  clearExpired?(): Promise<number>
  /** Releases what the backend opened itself (never the caller's client or pool). */
  close?(): Promise<void>
}

/** Capabilities of a plain store that takes ids and writes whole records. */
export const BASIC_CAPABILITIES: BackendCapabilities = Object.freeze({
  merge: false,
  issuesIds: false,
  anonymous: true,
  destroyUser: false,
  listUser: false,
  clearExpired: false,
  update: false,
})

/**
 * Keys the lifecycle keeps inside the session data, so that every store (and Django) carries them
 * without a schema of its own.
 */
export const RESERVED_KEYS = {
  /** Per-session max age in seconds; `0` = until the browser closes. Django reads the same key. */
  expiry: '_session_expiry',
  /** Creation time, epoch seconds, for the absolute lifetime. */
  created: '_sb_created',
  /** Flash values: a map read once. */
  flash: '_sb_flash',
} as const
