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
  #pending = new Map<string, Entry[]>()
  #running = new Set<string>()

  constructor(backend: SessionBackend) {
    this.#backend = backend
  }

  /** Slots with queued or running updates (for tests and diagnostics). */
  get size(): number {
    return new Set([...this.#pending.keys(), ...this.#running]).size
  }

  update(
    id: string,
    key: string,
    fn: (current: unknown) => unknown,
    options: UpdateOptions,
    timeoutMs: number,
  ): Promise<UpdateResult | null> {
    const slot = `${id}\u0000${key}`
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
      }
      const queue = this.#pending.get(slot)
      if (queue) queue.push(entry)
      else this.#pending.set(slot, [entry])
      if (!this.#running.has(slot)) void this.#drain(slot, id, key)
    })
  }

  async #drain(slot: string, id: string, key: string): Promise<void> {
    this.#running.add(slot)
    try {
      for (;;) {
        const waiting = this.#pending.get(slot)
        const batch: Entry[] = []
        let next = 0
        if (waiting) {
          for (; next < waiting.length && batch.length < MAX_BATCH; next++)
            if (!waiting[next]!.deadline.settled) batch.push(waiting[next]!)
        }
        if (batch.length === 0) break
        if (next === waiting!.length) this.#pending.delete(slot)
        else this.#pending.set(slot, waiting!.slice(next))
        await this.#runBounded(id, key, batch)
      }
    } finally {
      this.#pending.delete(slot)
      this.#running.delete(slot)
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
    const outcomes: Array<{ value: unknown } | { error: unknown }> = []
    const combined = (current: unknown) => {
      outcomes.length = 0
      let value = current
      for (const entry of batch) {
        try {
          // Each function gets its own copy: one may not change what the next one sees.
          value = entry.fn(own(value))
          outcomes.push({ value })
        } catch (error) {
          outcomes.push({ error }) // this caller's own failure; the others still apply
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
      for (const entry of batch) settle(entry, () => entry.reject(failure))
      return
    }
    for (const [i, entry] of batch.entries()) {
      const outcome = outcomes[i]
      if (result === null || outcome === undefined) settle(entry, () => entry.resolve(null))
      else if ('error' in outcome) settle(entry, () => entry.reject(outcome.error))
      else settle(entry, () => entry.resolve({ value: outcome.value, data: result.data }))
    }
  }
}

function settle(entry: Entry, fn: () => void): void {
  if (entry.deadline.settled) return // timed out: the caller has its SessionTimeoutError
  entry.deadlines.settle(entry.deadline)
  fn()
}
