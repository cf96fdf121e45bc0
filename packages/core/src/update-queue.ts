import { SessionTimeoutError } from './errors.ts'
import { type DeadlineQueue, deadlineQueue, type Pending } from './timeout.ts'
import type { SessionBackend, UpdateOptions, UpdateResult } from './types.ts'

/** Errors thrown by the backend call (as opposed to an app function's own): marked on the way out. */
const storeFailures = new WeakSet<object>()
/** Whether `error` came from the store, not from an app's update function. */
export const isStoreFailure = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && storeFailures.has(error)

interface Entry {
  fn: (current: unknown) => unknown
  options: UpdateOptions
  resolve: (result: UpdateResult | null) => void
  reject: (error: unknown) => void
  /** This caller's deadline, in the process's shared queue for its timeout (no timer of its own). */
  deadline: Pending
  deadlines: DeadlineQueue
  /** Set while its batch runs: told when this caller times out. */
  timedOut: (() => void) | null
  /** What its function gave in its batch's last run (`NOT_RUN` before): a value, or (`failed`) what it threw. */
  outcome: unknown
  failed: boolean
}

/** The updates of one session key waiting for the backend call that runs for it now. */
interface Slot {
  waiting: Entry[]
}

/** A value the next function may change: each gets its own copy (primitives are their own). */
const own = (value: unknown) => (typeof value === 'object' && value !== null ? structuredClone(value) : value)

/** Most updates combined into one backend call. */
const MAX_BATCH = 256

/**
 * The `session.update()` calls of one process for one backend object. Updates of the same session
 * key never race each other through the store: while one backend call runs, later ones wait, and
 * all that waited go to the store together as one call whose function applies each in arrival
 * order (each caller gets the value its own function produced). So N parallel requests of one
 * process cost about two backend calls, not N, and never a conflict among themselves; conflicts
 * with other processes are the store's to settle (CAS, conditional script, row lock). Each caller
 * waits at most `timeoutMs` in all (`SessionTimeoutError`); its function then never runs, or its
 * result is dropped.
 */
export class UpdateQueue {
  readonly #backend: SessionBackend
  // By session id, then key: two lookups of strings whose hashes V8 has already cached, where one
  // key made of both (`${id}\0${key}`) was a new string to flatten and hash on every update.
  #slots = new Map<string, Map<string, Slot>>()

  constructor(backend: SessionBackend) {
    this.#backend = backend
  }

  /** Sessions with queued or running updates (for tests and diagnostics). */
  get size(): number {
    return this.#slots.size
  }

  update(
    id: string,
    key: string,
    fn: (current: unknown) => unknown,
    options: UpdateOptions,
    timeoutMs: number,
  ): Promise<UpdateResult | null> {
    return new Promise((resolve, reject) => {
      const deadlines = deadlineQueue(timeoutMs)
      const expire = () => {
        reject(new SessionTimeoutError(this.#backend.name, 'update', timeoutMs))
        entry.timedOut?.()
      }
      const entry: Entry = {
        fn,
        options,
        resolve,
        reject,
        deadlines,
        deadline: deadlines.add(expire),
        timedOut: null,
        outcome: NOT_RUN,
        failed: false,
      }
      let keys = this.#slots.get(id)
      if (keys === undefined) {
        keys = new Map()
        this.#slots.set(id, keys)
      }
      const slot = keys.get(key)
      if (slot === undefined) {
        const started: Slot = { waiting: [entry] }
        keys.set(key, started)
        void this.#drain(started, id, key, keys)
      } else {
        slot.waiting.push(entry)
      }
    })
  }

  /** Runs the slot's waiting updates, a batch per backend call, until none waits; then drops it. */
  async #drain(slot: Slot, id: string, key: string, keys: Map<string, Slot>): Promise<void> {
    try {
      for (;;) {
        const waiting = slot.waiting
        const batch: Entry[] = []
        let next = 0
        for (; next < waiting.length && batch.length < MAX_BATCH; next++)
          if (!waiting[next]!.deadline.settled) batch.push(waiting[next]!)
        slot.waiting = next === waiting.length ? [] : waiting.slice(next)
        if (batch.length === 0) break
        await this.#runBounded(id, key, batch)
      }
    } finally {
      keys.delete(key)
      if (keys.size === 0 && this.#slots.get(id) === keys) this.#slots.delete(id)
    }
  }

  /**
   * The batch's backend call, or until every caller in it has timed out: a call that never answers
   * must not hold this key's queue (and every later update of it) forever.
   */
  #runBounded(id: string, key: string, batch: Entry[]): Promise<void> {
    return new Promise<void>((resolve) => {
      let waiting = batch.length
      const timedOut = () => {
        if (--waiting === 0) resolve()
      }
      for (const entry of batch) entry.timedOut = timedOut
      this.#run(id, key, batch).then(resolve, resolve)
    })
  }

  /** One backend call for the whole batch; each entry settles with its own value or error. */
  async #run(id: string, key: string, batch: Entry[]): Promise<void> {
    const combined = (current: unknown) => {
      let value = current
      for (const entry of batch) {
        try {
          // Each function gets its own copy: one may not change what the next one sees.
          value = entry.fn(own(value))
          entry.outcome = value
          entry.failed = false
        } catch (error) {
          entry.outcome = error // this caller's own failure; the others still apply
          entry.failed = true
        }
      }
      return value
    }
    let options = batch[batch.length - 1]!.options
    for (const entry of batch) {
      if (entry.options.expiresAt > options.expiresAt)
        options = { ...options, expiresAt: entry.options.expiresAt }
      // The expiry is kept only when every caller keeps it.
      if (options.expiryKept && !entry.options.expiryKept) options = { ...options, expiryKept: false }
    }
    let result: UpdateResult | null
    try {
      result = await this.#backend.update!(id, key, combined, options)
    } catch (error) {
      const failure = typeof error === 'object' && error !== null ? error : new Error(String(error))
      storeFailures.add(failure)
      for (const entry of batch) if (claimed(entry)) entry.reject(failure)
      return
    }
    for (const entry of batch) {
      if (!claimed(entry)) continue // timed out: the caller has its SessionTimeoutError
      if (result === null || entry.outcome === NOT_RUN) entry.resolve(null)
      else if (entry.failed) entry.reject(entry.outcome)
      else entry.resolve({ value: entry.outcome, data: result.data })
    }
  }
}

/** An entry's outcome before its function has run in this batch's backend call. */
const NOT_RUN: unknown = Symbol()

/** Takes `entry` off its deadline so its answer can be given: false when it had timed out already. */
function claimed(entry: Entry): boolean {
  if (entry.deadline.settled) return false
  entry.deadlines.settle(entry.deadline)
  return true
}
