import { type Change, DELETED, PendingChangeSet } from './change-set.ts'
import { isPlainDataObject, plainData } from './codec-json.ts'
import { type CommitPlan, type CommitReason, type CommitState, decideCommit } from './commit.ts'
import { writeCookie } from './cookies.ts'
import { channels, clock } from './diagnostics.ts'
import { backendError, keepSessionErrors, SessionBackendError, SessionError } from './errors.ts'
import { askHttps, type HttpsAnswer } from './https-answer.ts'
import type { ResolvedSessionOptions, SessionLogger } from './options.ts'
import { loadAtOnceOf, runnerOf } from './runner.ts'
import type { Signer } from './signing.ts'
import { boundedCall } from './timeout.ts'
import {
  type BackendCapabilities,
  RESERVED_KEYS,
  type SessionBackend,
  type SessionData,
  type SessionRecord,
  type UpdateOptions,
  type UpdateResult,
} from './types.ts'
import { isStoreFailure, UpdateQueue } from './update-queue.ts'

/** What committing a session did. */
export interface CommitResult {
  reason: CommitReason
  /** A `Set-Cookie` header value to send, or `null`. */
  setCookie: string | null
  /** A save or touch found the record gone (a logout elsewhere won the race). */
  lost: boolean
}

/** Everything a session needs from its manager, resolved once. */
export interface SessionContext {
  backend: SessionBackend
  options: ResolvedSessionOptions
  signer: Signer | null
  /**
   * Every id the backend's format accepts is cookie-safe (see `cookieSafeIds`): the cookie carries
   * the id, or the id and its base64url signature, without a per-character test. @default false
   */
  cookieSafeIds?: boolean
  /** Counters shared by every session of one manager. */
  stats: SessionManagerStats
}

/** What a manager counts over its lifetime. */
export interface SessionManagerStats {
  /**
   * Requests whose writes were dropped because the backend was unavailable under
   * `onBackendError: 'continue'` (also published as `dropped: true` on `sessionbridge:commit`).
   */
  droppedWrites: number
}

/**
 * One queue per store object: every manager (app) of this process that shares a backend shares
 * its queue, so their updates of one key never race each other through the store.
 */
const updateQueues = new WeakMap<SessionBackend, UpdateQueue>()
const queueFor = (backend: SessionBackend): UpdateQueue => {
  let queue = updateQueues.get(backend)
  if (!queue) {
    queue = new UpdateQueue(backend)
    updateQueues.set(backend, queue)
  }
  return queue
}

/** The request facts a session starts from. */
export interface SessionStart {
  /** A well-formed id from the cookie, or `null`. */
  id: string | null
  /** The cookie was signed with an older secret. */
  staleSignature: boolean
  /** The request came over HTTPS (decides `Secure`): asked when a cookie is written. */
  secure: HttpsAnswer
  /** This request's logger (a framework's, e.g. Fastify's `request.log`). @default the manager's `logger` */
  logger?: SessionLogger | undefined
  /**
   * The cookie's value as the request presented it, when it is `id` signed with the current secret:
   * a commit that keeps the id writes it back as is. @default undefined (signed again)
   */
  signedId?: string | undefined
}

// The callbacks of a backend call whose answer goes on as it is (`boundedThen`).
const same = <T>(value: T): T => value
const rethrow = (error: Error): never => {
  throw error
}
/** What a commit's failure (a backend call's typed error, a load's) goes on with instead of rejecting. */
type Failed<T> = (error: Error) => T | PromiseLike<T>

/**
 * `session.commit().then(shape)` as one promise, for the request driver (request.ts): `shape` runs
 * in the backend call's reaction. Set in `Session`'s static block (it reaches private members);
 * not public API.
 */
export let commitShaped: <T>(
  session: Session<SessionData>,
  shape: (result: CommitResult) => T,
  failed?: Failed<T>,
) => Promise<T>

/** The change set of every session that changed nothing yet: shared, so never written (`#changed()`). */
const NO_CHANGES: ReadonlyMap<string, Change> = new Map()
/** `#loadNow`'s answer when the load cannot end in this turn. */
const MUST_WAIT: unique symbol = Symbol('must wait')
const FLASH_PREFIX = `${RESERVED_KEYS.flash}.`
// The largest per-session max age honoured (100 years, in seconds); larger stored values mean the default.
const MAX_SESSION_AGE = 3_155_760_000
/**
 * JSON of a loaded value; a number's without JSON.stringify's runtime call (0.7k instructions).
 * `jsonText`'s number case, on purpose not `jsonText` itself: the edge Worker's bundle has no room.
 */
const loadedJson = (value: unknown): string =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : JSON.stringify(value)
// Keys that do not make a session "non-empty": bookkeeping alone is not worth a record.
const BOOKKEEPING = new Set<string>([RESERVED_KEYS.expiry, RESERVED_KEYS.created])

// Django 4.1+'s `set_expiry(datetime)` stores `datetime.isoformat()`: an absolute expiry, which no
// write moves. A naive value (USE_TZ=False) is taken as UTC; anything else is not a date.
const ISO_EXPIRY = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(\.\d{1,6})?(Z|[+-]\d\d:?\d\d)?$/
function absoluteExpiry(value: unknown): number | null {
  const m = typeof value === 'string' ? ISO_EXPIRY.exec(value) : null
  if (!m) return null
  const zone = !m[4]
    ? 'Z'
    : m[4] === 'Z' || m[4].includes(':')
      ? m[4]
      : `${m[4].slice(0, 3)}:${m[4].slice(3)}`
  const at = Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '').slice(0, 4)}${zone}`)
  return Number.isNaN(at) ? null : at
}

/** `#readBasis()` of a request that changed nothing; never written to. */
const NOTHING_READ: Record<string, string | null> = Object.freeze(Object.create(null))

/**
 * One request's session. Lazy: no backend call until a value is read (or a write must be merged
 * at commit). Writes are recorded as a change set so merging backends apply only what changed.
 */
export class Session<Data extends SessionData = SessionData> {
  #ctx: SessionContext
  #id: string | null
  #hadId: boolean
  #staleSignature: boolean
  readonly #secure: HttpsAnswer
  #logger: SessionLogger
  #signedId: string | undefined
  #loading: Promise<void> | null = null
  #loaded = false
  #exists = false
  #degraded = false
  #storedExpiresAt = 0
  #storedVersion: string | undefined
  #storedMaxAge = 0
  #data: Record<string, unknown> = plainData()
  #changes: ReadonlyMap<string, Change> = NO_CHANGES
  #clearPending = false
  // Created on first use: most requests watch, snapshot and blindly write nothing.
  #watched: Map<string, string> | null = null
  /** The loaded record's data as the backend returned it, and JSON of objects handed out before any change. */
  #loadedData: SessionData | null = null
  #readSnapshots: Map<string, string> | null = null
  /** Keys changed before the data was loaded: blind writes, derived from no read. */
  #blind: Set<string> | null = null
  #destroyed = false
  #regenerate = false
  #forceTouch = false
  /** An `update()` moved the stored expiry: the cookie has not followed yet. */
  #cookieBehind = false
  #committed = false
  #plannedReason: CommitReason | null = null
  #dropped = false

  constructor(ctx: SessionContext, start: SessionStart) {
    this.#ctx = ctx
    this.#id = start.id
    this.#hadId = start.id !== null
    this.#staleSignature = start.staleSignature
    this.#secure = start.secure
    this.#logger = start.logger ?? ctx.options.logger
    this.#signedId = start.signedId
  }

  /** The session id as known so far: the cookie's until a load finds nothing, a new one after commit. */
  get id(): string | null {
    return this.#id
  }
  /** No stored session backs this one (known for sure once loaded). */
  get isNew(): boolean {
    return this.#loaded ? !this.#exists : !this.#hadId
  }
  /** The data has been loaded (or nothing needed loading). */
  get loaded(): boolean {
    return this.#loaded
  }
  /**
   * Nothing was read, written, destroyed or regenerated, and the cookie needs no renewal: commit
   * would do nothing, so an adapter may skip it.
   */
  get untouched(): boolean {
    return (
      !this.#loaded &&
      this.#changes.size === 0 &&
      !this.#clearPending &&
      !this.#destroyed &&
      !this.#regenerate &&
      !this.#staleSignature
    )
  }
  /**
   * Commit would call no backend and send no cookie, as far as is known without I/O: `untouched`,
   * or loaded and only read (nothing changed, no object handed out that could change in place, no
   * touch or renewal due). An adapter may skip commit then; `false` when unsure.
   */
  get settled(): boolean {
    if (this.#committed || this.untouched) return true
    // Only commit can tell: whether an object handed out changed in place, what a pending clear
    // leaves after the load, whether a new max age needs a new record (an asynchronous capability).
    if (!this.#loaded || this.#watched?.size || this.#clearPending) return false
    // A change, a destroy or a regenerate almost always writes: commit decides (no second decision here).
    if (this.#changes.size > 0 || this.#destroyed || this.#regenerate) return false
    const maxAge = this.#maxAgeSeconds()
    if (maxAge !== this.#storedMaxAge) return false
    // A stored record only read (the common read): `decideCommit`'s own tests for that state,
    // without building the whole state it takes (a touch due, a stale signature, a moved expiry).
    if (this.#exists && !this.#degraded) {
      if (this.#staleSignature || this.#cookieBehind || this.#forceTouch) return false
      return !this.#touchDue(this.#ctx.options.now(), maxAge)
    }
    return decideCommit(this.#commitState(this.#ctx.options.now(), maxAge)).reason === 'nothing'
  }
  /**
   * Whether the backend declares `capabilities.update`, so `update()` is atomic against the store.
   * Asynchronous: a backend that learns its capabilities from its server (rest-sessions) is asked
   * first (`ready()`), so the first request after start gets the final answer, never the
   * cautious one. Throws the backend's error when it cannot be asked (the store is unreachable).
   */
  async canUpdate(): Promise<boolean> {
    const { backend } = this.#ctx
    return (await this.#capabilities()).update && typeof backend.update === 'function'
  }
  /** The backend was unavailable and the policy is `continue`: empty, read-only, never saved. */
  get degraded(): boolean {
    return this.#degraded
  }

  /** Loads the data once; later calls reuse the first. Throws `SessionBackendError` when the policy is `fail`. */
  async load(): Promise<this> {
    if (!this.#loaded) {
      const loading = this.#loadOnce()
      if (loading) await loading
    }
    return this
  }

  /**
   * The load in progress, started if none is: a plain method, so a read awaits one promise less.
   * `undefined` when the record was taken in this turn (no id, or `LoadAtOnce`): nothing to await.
   */
  #loadOnce(): Promise<void> | undefined {
    if (this.#loading !== null) return this.#loading
    const now = this.#loadNow()
    if (now !== MUST_WAIT) return now // not kept in `#loading`: a failed load is tried again
    this.#loading = this.#load()
    return this.#loading
  }

  async get<K extends keyof Data & string>(key: K): Promise<Data[K] | undefined> {
    if (!this.#loaded) {
      const loading = this.#loadOnce()
      if (loading) await loading
    }
    const value = this.#data[key]
    if (value !== null && typeof value === 'object' && !this.#changes.has(key) && !this.#watched?.has(key)) {
      // Objects can be changed in place; remember how they looked so commit can notice.
      const json = JSON.stringify(value)
      this.#watched ??= new Map()
      this.#watched.set(key, json)
      this.#readSnapshots ??= new Map()
      if (!this.#readSnapshots.has(key)) this.#readSnapshots.set(key, json)
    }
    return value as Data[K] | undefined
  }

  async has(key: keyof Data & string): Promise<boolean> {
    await this.load()
    return Object.hasOwn(this.#data, key)
  }

  /** A shallow copy of all data (inheriting nothing, see `plainData`), reserved keys included. */
  async all(): Promise<Partial<Data>> {
    await this.load()
    for (const [key, value] of Object.entries(this.#data)) {
      if (
        value !== null &&
        typeof value === 'object' &&
        !this.#changes.has(key) &&
        !this.#readSnapshots?.has(key)
      ) {
        this.#readSnapshots ??= new Map()
        this.#readSnapshots.set(key, JSON.stringify(value))
      }
    }
    return plainData(this.#data) as Partial<Data>
  }

  set<K extends keyof Data & string>(key: K, value: Data[K]): void {
    this.#assertOpen()
    if (value === undefined) {
      this.delete(key)
      return
    }
    this.#changed().set(key, { value })
    this.#watched?.delete(key)
    if (this.#loaded) this.#data[key] = value
    else {
      this.#blind ??= new Set()
      this.#blind.add(key)
    }
  }

  delete(key: keyof Data & string): void {
    this.#assertOpen()
    this.#changed().set(key, DELETED)
    this.#watched?.delete(key)
    if (this.#loaded) delete this.#data[key]
    else {
      this.#blind ??= new Set()
      this.#blind.add(key)
    }
  }

  /** Removes every key. An emptied session is deleted at commit and its cookie cleared. */
  clear(): void {
    this.#assertOpen()
    if (this.#loaded) {
      for (const key of Object.keys(this.#data)) this.#changed().set(key, DELETED)
      this.#data = plainData()
    } else {
      this.#changes = NO_CHANGES
      this.#clearPending = true
    }
    this.#watched?.clear()
  }

  /** Keeps the data under a new id and removes the old record at commit: call it at login. */
  regenerate(): void {
    this.#assertOpen()
    this.#regenerate = true
  }

  /** Deletes the session at commit (logout). Data set afterwards starts a fresh session. */
  destroy(): void {
    this.#assertOpen()
    this.#destroyed = true
    this.#loaded = true
    this.#exists = false
    this.#data = plainData()
    this.#changes = NO_CHANGES
    this.#watched?.clear()
    this.#clearPending = false
    this.#loadedData = null
  }

  /** Per-session max age in seconds (`0`: until the browser closes; `null`: the default). */
  setMaxAge(seconds: number | null): void {
    if (seconds === null) {
      this.delete(RESERVED_KEYS.expiry)
      return
    }
    if (!Number.isInteger(seconds) || seconds < 0)
      throw new RangeError('max age must be a whole number of seconds >= 0')
    this.set(RESERVED_KEYS.expiry, seconds as Data[string])
  }

  /** Moves the expiry at commit even if the touch interval has not passed. */
  touch(): void {
    this.#forceTouch = true
  }

  /** Stores a value that the next `takeFlash(key)` returns once. */
  flash(key: string, value: unknown): void {
    this.set(`${FLASH_PREFIX}${key}`, value as Data[string])
  }

  /** Returns a flash value and removes it. */
  async takeFlash<T = unknown>(key: string): Promise<T | undefined> {
    const full = `${FLASH_PREFIX}${key}`
    await this.load()
    if (!Object.hasOwn(this.#data, full)) return undefined
    const value = this.#data[full] as T
    this.delete(full)
    return value
  }

  /**
   * Read-modify-write of one key, atomic against the store: `fn` gets the value stored now
   * (`undefined` when absent) and returns the new one (`undefined` deletes the key). Runs at once,
   * not at commit, through `backend.update()` (the backend must declare `capabilities.update`),
   * and returns the value stored. When other writers keep changing the key, `fn` runs again on
   * the fresh value, at most `updateAttempts` times, then `SessionConflictError` (409) is thrown and
   * nothing is written. `fn` must be pure: it may run several times.
   *
   * For a session with no stored record yet (no cookie, expired, destroyed or regenerated in this
   * request, or gone meanwhile), `fn` runs here on the request's own value and the result is saved
   * with the new record at commit: nobody else can know that record's id, so nothing can race it.
   * A pending `set`/`delete` of the same key in this request is superseded by the update.
   */
  async update<K extends keyof Data & string>(
    key: K,
    fn: (current: Data[K] | undefined) => Data[K] | undefined,
  ): Promise<Data[K] | undefined> {
    this.#assertOpen()
    const { backend } = this.#ctx
    // Not `await this.load()`: awaiting its answer, the session, made V8 look up a `then` on it.
    if (!this.#loaded) {
      const loading = this.#loadOnce()
      if (loading) await loading
    }
    if (this.#degraded) {
      throw new SessionBackendError(
        backend.name,
        'update',
        'the store was unavailable when the session loaded',
      )
    }
    const capabilities = backend.ready ? await this.#capabilities() : backend.capabilities
    if (!capabilities.update || typeof backend.update !== 'function') {
      throw new SessionError(
        `[sessionbridge/core] the ${backend.name} backend does not declare capabilities.update: session.update() needs an atomic store`,
      )
    }
    if (!this.#exists || this.#destroyed || this.#regenerate) return this.#updateLocally(key, fn)
    // Awaited here, so this promise settles with the value itself (no `then` looked up on an object).
    return await this.#updateInStore(key, fn)
  }

  #updateLocally<K extends keyof Data & string>(
    key: K,
    fn: (current: Data[K] | undefined) => Data[K] | undefined,
  ): Data[K] | undefined {
    const current = Object.hasOwn(this.#data, key) ? (this.#data[key] as Data[K]) : undefined
    const next = fn(current === undefined ? undefined : structuredClone(current))
    this.set(key, next as Data[K])
    return next
  }

  /** `update()` through the backend; a record gone meanwhile carries on as a new session. */
  async #updateInStore<K extends keyof Data & string>(
    key: K,
    fn: (current: Data[K] | undefined) => Data[K] | undefined,
  ): Promise<Data[K] | undefined> {
    const { backend, options } = this.#ctx
    const now = options.now()
    const maxAge = this.#maxAgeSeconds()
    const kept = this.#keepsExpiry(now, maxAge)
    const { expiresAt, userId } = this.#record(kept ? this.#storedExpiresAt : this.#expiresAt(now, maxAge))
    const updateOptions: UpdateOptions = { expiresAt, userId, maxAttempts: options.updateAttempts }
    if (kept) updateOptions.expiryKept = true
    let result: UpdateResult | null
    try {
      const storeFn = fn as (current: unknown) => unknown
      result = await queueFor(backend).update(this.#id!, key, storeFn, updateOptions, options.timeout)
    } catch (error) {
      // The app's own exception from `fn` reaches the app as itself (the queue hands it back
      // unwrapped); anything untyped from the store is an I/O failure.
      if (error instanceof SessionError || !isStoreFailure(error)) throw error
      throw backendError(backend.name, 'update', error)
    }
    if (result === null) {
      // The record went away meanwhile (a logout elsewhere): carry on as a new session.
      this.#exists = false
      this.#data = plainData()
      for (const [k, change] of this.#changes) if (change !== DELETED) this.#data[k] = change.value
      return this.#updateLocally(key, fn)
    }
    if (!kept) {
      this.#storedExpiresAt = expiresAt
      this.#cookieBehind = true
    }
    this.#adoptStored(key, result)
    return result.value as Data[K] | undefined
  }

  /** Takes the store's data after an update; this request's other pending changes still apply. */
  #adoptStored(key: string, result: UpdateResult): void {
    this.#collectInPlaceChanges()
    if (this.#changes.has(key)) {
      // A commit already begun holds the map (`PendingChangeSet`): a copy takes the change out.
      if (this.#committed) this.#changes = new Map(this.#changes)
      this.#changed().delete(key)
    }
    const data: Record<string, unknown> = { ...result.data }
    for (const [k, change] of this.#changes) {
      if (change === DELETED) delete data[k]
      else data[k] = change.value
    }
    this.#data = data
    this.#storedVersion = undefined // the record changed: an old version would only fail a CAS
  }

  /**
   * Ends the request: decides what to do (one reason), does it, and returns the cookie to send.
   * Framework adapters call this once, in `finally`. Later calls return `nothing`.
   */
  commit(): Promise<CommitResult> {
    if (this.#committed) return Promise.resolve({ reason: 'nothing', setCookie: null, lost: false })
    this.#committed = true
    // The promise of `#commit()` itself: an async function returning it would wrap it in another,
    // two microtasks and a then-job more per write.
    if (!channels.commit.hasSubscribers) return this.#commit(same)
    return this.#publishedCommit()
  }

  static {
    commitShaped = <T>(
      session: Session<SessionData>,
      shape: (result: CommitResult) => T,
      failed?: Failed<T>,
    ): Promise<T> => {
      if (session.#committed || channels.commit.hasSubscribers) return session.commit().then(shape, failed)
      session.#committed = true
      return session.#commit(shape, failed)
    }
  }

  async #publishedCommit(): Promise<CommitResult> {
    const started = clock()
    const publish = (reason: string, outcome: 'ok' | 'lost' | 'error') => {
      if (reason === 'nothing' && !this.#dropped) return
      const durationMs = clock() - started
      channels.commit.publish({
        backend: this.#ctx.backend.name,
        reason,
        outcome,
        durationMs,
        dropped: this.#dropped,
      })
    }
    try {
      const result = await this.#commit(same)
      publish(result.reason, result.lost ? 'lost' : 'ok')
      return result
    } catch (error) {
      publish(this.#plannedReason ?? 'unknown', 'error')
      throw error
    }
  }

  /** What `decideCommit` judges, as the session stands now. */
  #commitState(now: number, maxAge: number): CommitState {
    return {
      degraded: this.#degraded,
      hadId: this.#hadId,
      loaded: this.#loaded,
      exists: this.#exists,
      changes: this.#changes.size,
      // Only a change, a regenerate, a destroy or a missing record makes emptiness matter.
      empty:
        (this.#changes.size > 0 || this.#regenerate || this.#destroyed || !this.#exists) &&
        this.#onlyBookkeeping(),
      destroyed: this.#destroyed,
      regenerate: this.#regenerate,
      touchDue: this.#forceTouch || this.#touchDue(now, maxAge),
      expiryChanged: this.#changes.has(RESERVED_KEYS.expiry),
      staleSignature: this.#staleSignature,
      cookieBehind: this.#cookieBehind,
    }
  }
  /** Whether the data holds nothing but bookkeeping keys; a value set now answers without a scan. */
  #onlyBookkeeping(): boolean {
    for (const [key, change] of this.#changes) if (change !== DELETED && !BOOKKEEPING.has(key)) return false
    for (const key in this.#data) if (!BOOKKEEPING.has(key)) return false
    return true
  }

  // Plain methods returning promises: the common write (a save or a touch alone, nothing to load)
  // runs up to the backend's call at once and ends in that call's own reaction (`boundedThen`),
  // where an `async` function would add its own promise and an await.
  #commit<T>(shape: (result: CommitResult) => T, failed?: Failed<T>): Promise<T> {
    try {
      const needsLoad = this.#changes.size > 0 || this.#regenerate || this.#clearPending
      if (needsLoad && !this.#loaded)
        return this.load().then(() => this.#commitLoaded(needsLoad, shape, failed), failed)
      return this.#commitLoaded(needsLoad, shape, failed)
    } catch (error) {
      const rejected = Promise.reject(error)
      return failed === undefined ? rejected : rejected.then(undefined, failed)
    }
  }

  #commitLoaded<T>(
    needsLoad: boolean,
    shape: (result: CommitResult) => T,
    failed: Failed<T> | undefined,
  ): Promise<T> {
    this.#collectInPlaceChanges()
    // JSON of every changed key's loaded value: only a backend that reads it pays for it.
    const read = this.#ctx.backend.capabilities.readBasis === true ? this.#readBasis() : undefined
    const now = this.#ctx.options.now()
    const maxAge = this.#maxAgeSeconds()
    // A store that fixes a record's lifetime at create cannot move it: a new max age, a new record.
    if (this.#exists && maxAge !== this.#storedMaxAge) {
      return this.#capabilities().then((capabilities) => {
        if (capabilities.fixedTtl) this.#regenerate = true
        return this.#commitPlanned(needsLoad, read, now, maxAge, shape, failed)
      }, failed)
    }
    return this.#commitPlanned(needsLoad, read, now, maxAge, shape, failed)
  }

  #commitPlanned<T>(
    needsLoad: boolean,
    read: Record<string, string | null> | undefined,
    now: number,
    maxAge: number,
    shape: (result: CommitResult) => T,
    failed: Failed<T> | undefined,
  ): Promise<T> {
    const plan = decideCommit(this.#commitState(now, maxAge))
    this.#plannedReason = plan.reason
    if (plan.reason === 'degraded' && (needsLoad || this.#destroyed)) {
      this.#dropped = true
      const dropped = ++this.#ctx.stats.droppedWrites
      this.#logger.warn(
        `[sessionbridge/core] ${this.#ctx.backend.name} unavailable: the session's changes were not saved (${dropped} dropped since start)`,
      )
    }
    // The common read ends here: no backend call, no cookie.
    if (plan.reason === 'nothing') {
      // What `shape` throws rejects as it is (not a commit failure for `failed`).
      try {
        return Promise.resolve(shape({ reason: 'nothing', setCookie: null, lost: false }))
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const oldId = this.#id
    const kept = plan.reason === 'save' && this.#keepsExpiry(now, maxAge)
    // One closure a commit, made in the branch taken (each is a call of `CompileLazy` too).
    if (oldId !== null && plan.reason === 'save') {
      const expiresAt = kept ? this.#storedExpiresAt : this.#expiresAt(now, maxAge)
      return this.#save(
        oldId,
        expiresAt,
        read,
        kept,
        (stored) => this.#result(plan, now, maxAge, !stored, kept, shape),
        failed,
      )
    }
    if (oldId !== null && plan.reason === 'touch')
      return this.#touch(
        oldId,
        now,
        maxAge,
        (stored) => this.#result(plan, now, maxAge, !stored, kept, shape),
        failed,
      )
    return this.#execute(plan, now, maxAge, read).then(
      (lost) => this.#result(plan, now, maxAge, lost, kept, shape),
      failed,
    )
  }

  /** The result of a commit whose backend work is done: the cookie to send, if any. */
  #result<T>(
    plan: CommitPlan,
    now: number,
    maxAge: number,
    lost: boolean,
    kept: boolean,
    shape: (result: CommitResult) => T,
  ): T | Promise<T> {
    const cookie = this.#cookieFor(plan, now, maxAge, lost, kept)
    if (typeof cookie === 'string' || cookie === null)
      return shape({ reason: plan.reason, setCookie: cookie, lost })
    return cookie.then((setCookie) => shape({ reason: plan.reason, setCookie, lost }))
  }

  /**
   * The load ended in this turn where it can be: without an id (nothing to load), or through the
   * backend's `LoadAtOnce`. `undefined`: the record is taken; a rejected promise: the load failed
   * (the `fail` policy); `MUST_WAIT`: the backend's `load` must be awaited.
   */
  #loadNow(): Promise<void> | undefined | typeof MUST_WAIT {
    const id = this.#id
    let record: SessionRecord | null | undefined = null
    try {
      if (id !== null) {
        const { backend } = this.#ctx
        const atOnce = loadAtOnceOf(backend)
        if (atOnce === null) return MUST_WAIT
        try {
          record = atOnce(id)
        } catch (error) {
          this.#loadFailed(backendError(backend.name, 'load', error, keepSessionErrors))
          return undefined
        }
        if (record === undefined) return MUST_WAIT
      }
      this.#take(record)
      return undefined
    } catch (error) {
      return Promise.reject(error)
    }
  }

  // Clears `#loading` when done, so a failed load is retried by the next call. The record is taken
  // in the bounded call's own reaction (`boundedThen`): no async frame awaiting it.
  #load(): Promise<void> {
    const { backend, options } = this.#ctx
    const id = this.#id!
    return runnerOf(backend)(
      backend.name,
      'load',
      options.timeout,
      () => backend.load(id),
      (record: SessionRecord | null) => {
        this.#loading = null
        this.#take(record)
      },
      (error: Error) => {
        this.#loading = null
        this.#loadFailed(error)
      },
    )
  }

  /** A load's typed failure: thrown on (the `fail` policy), or an empty read-only session (`continue`). */
  #loadFailed(error: Error): void {
    if (this.#ctx.options.onBackendError !== 'continue') throw error
    this.#logger.warn(`[sessionbridge/core] ${error.message}; continuing with an empty read-only session`)
    this.#degraded = true
    this.#take(null)
  }

  /** Takes a loaded record (or none) as the session's data, with the changes made before it. */
  #take(loaded: SessionRecord | null): void {
    const { options } = this.#ctx
    const now = options.now()
    let record = loaded
    if (record && (record.expiresAt <= now || this.#pastAbsoluteDeadline(record.data, now))) record = null
    if (this.#destroyed) return // destroy() during the load wins
    this.#exists = record !== null
    this.#storedExpiresAt = record?.expiresAt ?? 0
    this.#storedVersion = record?.version
    this.#storedMaxAge = this.#maxAgeOf(record?.data ?? {})
    this.#loadedData = record?.data ?? null
    const data = this.#ownData(record)
    if (this.#clearPending) {
      for (const key of Object.keys(data)) if (!this.#changes.has(key)) this.#changed().set(key, DELETED)
      this.#clearPending = false
    }
    // Most loads come before any change: no iterator over the empty change set.
    if (this.#changes.size > 0) {
      for (const [key, change] of this.#changes) {
        if (change === DELETED) delete data[key]
        else data[key] = change.value
      }
    }
    this.#data = data
    this.#loaded = true
  }

  /**
   * The loaded data as the session's own: own keys only, in an object that inherits nothing. A
   * backend's `plainData()` object is handed over (`SessionBackend.load`) and taken as it is, one
   * copy less a load, unless the read basis needs the values as they were loaded.
   */
  #ownData(record: SessionRecord | null): Record<string, unknown> {
    if (record === null) return plainData()
    const handedOver = isPlainDataObject(record.data) && this.#ctx.backend.capabilities.readBasis !== true
    return handedOver ? record.data : plainData(record.data)
  }

  #pastAbsoluteDeadline(data: SessionData, now: number): boolean {
    const created = data[RESERVED_KEYS.created]
    const absolute = this.#ctx.options.absoluteMaxAge
    return absolute !== null && typeof created === 'number' && (created + absolute) * 1000 <= now
  }

  /** The backend's capabilities once final (a backend may first learn them from its server). */
  async #capabilities(): Promise<BackendCapabilities> {
    const { backend, options } = this.#ctx
    const ready = backend.ready?.bind(backend)
    if (ready) await boundedCall(backend.name, 'ready', options.timeout, ready)
    return backend.capabilities
  }

  #maxAgeSeconds(): number {
    return this.#maxAgeOf(this.#data)
  }

  #maxAgeOf(data: SessionData): number {
    const perSession = data[RESERVED_KEYS.expiry]
    // A stored value is foreign input: beyond a century it would overflow the cookie's dates.
    const valid = typeof perSession === 'number' && Number.isInteger(perSession) && perSession > 0
    return valid && perSession <= MAX_SESSION_AGE ? perSession : this.#ctx.options.maxAge
  }

  #expiresAt(now: number, maxAge: number): number {
    const idle = absoluteExpiry(this.#data[RESERVED_KEYS.expiry]) ?? now + maxAge * 1000
    const created = this.#data[RESERVED_KEYS.created]
    const absolute = this.#ctx.options.absoluteMaxAge
    if (absolute === null || typeof created !== 'number') return idle
    return Math.min(idle, (created + absolute) * 1000)
  }

  #touchDue(now: number, maxAge: number): boolean {
    const interval = this.#ctx.options.touchInterval
    if (interval === false || !this.#exists) return false
    const lastActivity = this.#storedExpiresAt - maxAge * 1000
    return now - lastActivity >= interval * 1000 && this.#expiresAt(now, maxAge) > this.#storedExpiresAt
  }

  /**
   * A write of an existing session keeps its stored expiry (and sends no cookie: the browser's
   * carries that expiry already) until a move is due: the idle expiry moves at most once per
   * `touchInterval`, by a read or a write alike. `false` moves it at every write (Django's way).
   */
  #keepsExpiry(now: number, maxAge: number): boolean {
    if (this.#ctx.options.touchInterval === false || !this.#exists) return false
    if (this.#forceTouch || this.#cookieBehind || this.#changes.has(RESERVED_KEYS.expiry)) return false
    // Never past what a move would give now (a lowered absoluteMaxAge), nor under a new max age.
    if (maxAge !== this.#storedMaxAge || this.#expiresAt(now, maxAge) < this.#storedExpiresAt) return false
    return !this.#touchDue(now, maxAge)
  }

  #collectInPlaceChanges(): void {
    if (this.#watched === null) return
    for (const [key, before] of this.#watched) {
      if (
        !this.#changes.has(key) &&
        Object.hasOwn(this.#data, key) &&
        JSON.stringify(this.#data[key]) !== before
      ) {
        this.#changed().set(key, { value: this.#data[key] })
      }
    }
    this.#watched?.clear()
  }

  #record(expiresAt: number, version?: string): SessionRecord {
    const user = this.#data[this.#ctx.options.userIdKey]
    const record: SessionRecord = {
      data: this.#data,
      expiresAt,
      userId: typeof user === 'string' || typeof user === 'number' ? String(user) : null,
    }
    if (version !== undefined) record.version = version
    return record
  }

  /**
   * What this request read of each key it changed (see `ChangeSet.read`), in-place changes
   * collected first: every object handed out was snapshotted (`#readSnapshots`) when it was.
   */
  #readBasis(): Record<string, string | null> | undefined {
    const loaded = this.#loadedData
    if (loaded === null) return undefined
    // A request that only read (the common read) has nothing to report.
    if (this.#changes.size === 0) return NOTHING_READ
    const read = plainData() as Record<string, string | null>
    for (const key of this.#changes.keys()) this.#readOf(read, loaded, key)
    return read
  }

  /** Adds what the request read of `key` (a snapshot, else the loaded value) unless it wrote blindly. */
  #readOf(read: Record<string, string | null>, loaded: SessionData, key: string): void {
    if (Object.hasOwn(read, key) || this.#blind?.has(key)) return
    const snapshot = this.#readSnapshots?.get(key)
    read[key] = snapshot ?? (Object.hasOwn(loaded, key) ? loadedJson(loaded[key]) : null)
  }

  async #execute(
    plan: CommitPlan,
    now: number,
    maxAge: number,
    read: Record<string, string | null> | undefined,
  ): Promise<boolean> {
    const { backend } = this.#ctx
    const oldId = this.#id
    let lost = false
    if (plan.create) {
      if (!this.#regenerate || !Object.hasOwn(this.#data, RESERVED_KEYS.created) || this.#destroyed) {
        this.#data[RESERVED_KEYS.created] = Math.floor(now / 1000)
      }
      this.#id = await this.#createRecord(this.#record(this.#expiresAt(now, maxAge)))
    }
    if (plan.save && oldId !== null)
      lost = !(await this.#save(oldId, this.#expiresAt(now, maxAge), read, false, same))
    if (plan.touch && oldId !== null) lost = !(await this.#touch(oldId, now, maxAge, same))
    // Destroy after create, so a failure in between never leaves the user with nothing.
    if (plan.destroyOld && oldId !== null) await this.#call('destroy', () => backend.destroy(oldId))
    if (plan.cookie === 'clear') this.#id = null
    return lost
  }

  /** Merges the change set into the stored record; `read` is `#readBasis()`'s. */
  #save<U>(
    id: string,
    expiresAt: number,
    read: Record<string, string | null> | undefined,
    expiryKept: boolean,
    done: (stored: boolean) => U | PromiseLike<U>,
    failed?: Failed<U>,
  ): Promise<U> {
    const changes = new PendingChangeSet(this.#changes)
    if (read) changes.read = read
    if (expiryKept) changes.expiryKept = true
    const record = this.#record(expiresAt, this.#storedVersion)
    const { backend } = this.#ctx
    return this.#callThen('save', () => backend.save(id, changes, record), done, failed)
  }

  /** Moves the stored record's expiry without writing data. */
  #touch<U>(
    id: string,
    now: number,
    maxAge: number,
    done: (stored: boolean) => U | PromiseLike<U>,
    failed?: Failed<U>,
  ): Promise<U> {
    const expiresAt = this.#expiresAt(now, maxAge)
    const { backend } = this.#ctx
    return this.#callThen('touch', () => backend.touch(id, expiresAt), done, failed)
  }

  /** `#call(op, fn).then(done)` as one promise (see `boundedThen`; `promptThen` for the memory backend, `runnerOf`). */
  #callThen<T, U>(
    op: string,
    fn: () => Promise<T>,
    done: (value: T) => U | PromiseLike<U>,
    failed: Failed<U> = rethrow,
  ): Promise<U> {
    const { backend, options } = this.#ctx
    return runnerOf(backend)(backend.name, op, options.timeout, fn, done, failed)
  }

  /** One backend call under the deadline (a method, not a closure made per commit). */
  #call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return boundedCall(this.#ctx.backend.name, op, this.#ctx.options.timeout, fn)
  }

  async #createRecord(record: SessionRecord) {
    const { backend, options } = this.#ctx
    for (let attempt = 0; attempt < options.createAttempts; attempt++) {
      const proposed = backend.idFormat.generate()
      const id = await this.#call('create', () => backend.create(proposed, record))
      if (id !== null) return id
      if (backend.capabilities.issuesIds) break
    }
    throw new SessionBackendError(
      backend.name,
      'create',
      `no free session id after ${options.createAttempts} attempts`,
    )
  }

  /** The commit's `Set-Cookie` value; synchronous unless the id's signature must be computed. */
  #cookieFor(
    plan: CommitPlan,
    now: number,
    maxAge: number,
    lost: boolean,
    expiryKept: boolean,
  ): string | null | Promise<string> {
    const { options, signer } = this.#ctx
    const { cookie } = options
    if (plan.cookie === 'clear')
      return writeCookie(cookie, '', 0, cookie.secure === 'auto' && askHttps(this.#secure), now)
    const id = this.#id
    if (plan.cookie !== 'set' || id === null || lost) return null
    if (expiryKept && !this.#staleSignature) return null // the browser's cookie carries it already
    const browserSession = this.#data[RESERVED_KEYS.expiry] === 0 || !cookie.persistent
    const idChanged = plan.create
    if (!idChanged && browserSession && !this.#staleSignature) return null
    // A kept expiry, or one an update moved, is the stored one; any other plan wrote `#expiresAt`.
    const storedOne = expiryKept || (plan.reason === 'renew' && this.#exists)
    const expiresAt = storedOne ? this.#storedExpiresAt : this.#expiresAt(now, maxAge)
    const seconds = browserSession ? null : Math.max(1, Math.round((expiresAt - now) / 1000))
    const safe = this.#ctx.cookieSafeIds === true
    // An explicit `cookie.secure` decides alone (`writeCookie`): the request is not asked then.
    const secure = cookie.secure === 'auto' && askHttps(this.#secure)
    if (!signer) return writeCookie(cookie, id, seconds, secure, now, safe)
    // A returning visitor's id was signed before: its cookie, or the signer's memory, has it.
    const signed = idChanged ? signer.signed?.(id) : (this.#signedId ?? signer.signed?.(id))
    if (signed !== undefined) return writeCookie(cookie, signed, seconds, secure, now, safe)
    return signer.sign(id).then((value) => writeCookie(cookie, value, seconds, secure, now, safe))
  }

  /** The change set, made on the first change: most requests change nothing. */
  #changed(): Map<string, Change> {
    if (this.#changes === NO_CHANGES) this.#changes = new Map()
    return this.#changes as Map<string, Change>
  }

  #assertOpen(): void {
    if (this.#committed) throw new SessionError('[sessionbridge/core] the session was already committed')
  }
}
