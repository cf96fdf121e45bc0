import { type CallOutcome, channels, clock } from './diagnostics.ts'
import { backendError, keepSessionErrors, SessionTimeoutError } from './errors.ts'

/**
 * Runs one backend call with a deadline, and turns whatever untyped error it throws into a
 * `SessionBackendError`, so a slow or broken store always yields a bounded, typed failure. Each
 * call is published on the `sessionbridge:backend` diagnostics channel when it has subscribers.
 */
export function boundedCall<T>(
  backend: string,
  operation: string,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  if (!channels.backend.hasSubscribers) return deadlineCall(backend, operation, timeoutMs, call, null, null)
  const outcome = reporter(backend, operation)
  return deadlineCall<T, T>(backend, operation, timeoutMs, call, null, null).then(
    (value) => outcome.answered(value),
    (error: Error) => {
      outcome.failed(error)
      throw error
    },
  )
}

/**
 * `boundedCall(...).then(onValue, onFailure)` as one promise: the callbacks run in the bounded
 * call's own reaction, so the caller's continuation costs no promise and no microtask of its own
 * (a session's load and save, each against an `async` function awaiting `boundedCall`).
 * `onFailure` gets the typed error (`SessionBackendError`, `SessionTimeoutError`); what either
 * callback throws rejects the promise as it is.
 */
export function boundedThen<T, U>(
  backend: string,
  operation: string,
  timeoutMs: number,
  call: () => Promise<T>,
  onValue: (value: T) => U | PromiseLike<U>,
  onFailure: (error: Error) => U | PromiseLike<U>,
): Promise<U> {
  if (!channels.backend.hasSubscribers)
    return deadlineCall(backend, operation, timeoutMs, call, onValue, onFailure)
  const outcome = reporter(backend, operation)
  return deadlineCall<T, T>(backend, operation, timeoutMs, call, null, null).then(
    (value) => onValue(outcome.answered(value)),
    (error: Error) => {
      outcome.failed(error)
      return onFailure(error)
    },
  )
}

/** Publishes one call's outcome on `sessionbridge:backend`, timed from now. */
function reporter(backend: string, operation: string) {
  const started = clock()
  const report = (outcome: CallOutcome, error?: Error) =>
    channels.backend.publish({
      backend,
      operation,
      outcome,
      durationMs: clock() - started,
      ...(error ? { errorName: error.name } : {}),
    })
  return {
    answered<T>(result: T): T {
      report(result === null || result === false ? 'miss' : 'ok')
      return result
    },
    failed(error: Error): void {
      report(error instanceof SessionTimeoutError ? 'timeout' : 'error', error)
    },
  }
}

/** One bounded call still waiting for its answer. */
export interface Pending {
  readonly deadline: number
  settled: boolean
  /** Dropped when the call settles: it holds the caller's promise, and with it the call's answer. */
  expire: (() => void) | null
}

/** What a slot before the queue's head holds once its call has left. */
const GONE: Pending = Object.freeze({ deadline: 0, settled: true, expire: null }) as Pending

/**
 * The calls waiting under one timeout length, oldest first. All share one timeout, so deadlines
 * come in the order the calls started: one timer, armed for the oldest unsettled call, serves them
 * all, and a call costs an array slot rather than a timer of its own (this runs for every backend
 * call). Settled calls leave from the front as soon as everything before them has settled, and
 * let go of what they hold at once: on a real store answers come out of order, so a call can sit
 * behind an older one, and the array keeps up to 1024 slots before its head; held there, each
 * call's promise and answer outlived a scavenge or two (PostgreSQL increment, 32 concurrent: 2.5
 * against 1.2 µs of scavenges per request, `bench/src/core-vs-backend.ts`).
 */
export class DeadlineQueue {
  readonly #ms: number
  // Slots [#head, #tail) hold the calls; the array keeps its length (its high-water mark) and its
  // slots are written over: setting `length = 0` gave up the backing store, which the next push
  // then allocated again, at every call when one is in flight at a time.
  #calls: Pending[] = []
  #head = 0
  #tail = 0
  #timer: ReturnType<typeof setTimeout> | null = null

  constructor(ms: number) {
    this.#ms = ms
  }

  add(expire: () => void): Pending {
    const call: Pending = { deadline: clock() + this.#ms, settled: false, expire }
    this.#calls[this.#tail++] = call
    if (this.#timer === null) this.#arm(this.#ms)
    return call
  }

  settle(call: Pending): void {
    call.settled = true
    call.expire = null
    this.#dropSettled()
  }

  #dropSettled(): void {
    const calls = this.#calls
    while (this.#head < this.#tail && calls[this.#head]!.settled) calls[this.#head++] = GONE
    if (this.#head === this.#tail) {
      this.#head = 0
      this.#tail = 0
      if (calls.length > 4096) this.#calls = [] // a burst's slots are not kept for good
    } else if (this.#head > 1024 && this.#head * 2 > this.#tail) {
      this.#calls = calls.slice(this.#head, this.#tail)
      this.#tail -= this.#head
      this.#head = 0
    }
  }

  #arm(ms: number): void {
    // Unreferenced: a pending call waits on a socket or a server that keeps the process alive itself.
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(ms)))
    this.#timer.unref?.()
  }

  readonly #fire = (): void => {
    this.#timer = null
    const now = clock()
    const calls = this.#calls
    while (this.#head < this.#tail) {
      const call = calls[this.#head]!
      if (!call.settled && call.deadline > now) break
      calls[this.#head++] = GONE
      if (!call.settled) {
        const expire = call.expire
        call.settled = true
        call.expire = null
        expire?.()
      }
    }
    this.#dropSettled()
    if (this.#head < this.#tail) this.#arm(this.#calls[this.#head]!.deadline - now)
  }
}

const queues = new Map<number, DeadlineQueue>()
// The queue asked for last: a process nearly always has one timeout, and a number's Map lookup
// (its hash, the bucket's chain) ran at every backend call.
let lastMs = -1
let lastQueue: DeadlineQueue | null = null

/** The process's one queue of deadlines `timeoutMs` away (backend calls and queued updates share it). */
export function deadlineQueue(timeoutMs: number): DeadlineQueue {
  if (timeoutMs === lastMs) return lastQueue!
  let queue = queues.get(timeoutMs)
  if (queue === undefined) {
    queue = new DeadlineQueue(timeoutMs)
    queues.set(timeoutMs, queue)
  }
  lastMs = timeoutMs
  lastQueue = queue
  return queue
}

/**
 * `call()` bounded by `timeoutMs`: one promise, and a slot in the shared queue of that timeout.
 * With `onValue`/`onFailure`, the promise settles with what they return (or throw) instead.
 */
function deadlineCall<T, U>(
  backend: string,
  operation: string,
  timeoutMs: number,
  call: () => Promise<T>,
  onValue: ((value: T) => U | PromiseLike<U>) | null,
  onFailure: ((error: Error) => U | PromiseLike<U>) | null,
): Promise<U> {
  const deadlines = deadlineQueue(timeoutMs)
  return new Promise<U>((resolve, reject) => {
    const failWith = (error: Error) => {
      if (onFailure === null) return reject(error)
      try {
        resolve(onFailure(error))
      } catch (thrown) {
        reject(thrown)
      }
    }
    const pending = deadlines.add(() => failWith(new SessionTimeoutError(backend, operation, timeoutMs)))
    const fail = (error: unknown) => {
      if (pending.settled) return
      deadlines.settle(pending)
      failWith(backendError(backend, operation, error, keepSessionErrors))
    }
    let answer: Promise<T>
    try {
      answer = call()
    } catch (error) {
      return fail(error)
    }
    Promise.resolve(answer).then((value) => {
      if (pending.settled) return
      deadlines.settle(pending)
      if (onValue === null) return resolve(value as unknown as U)
      try {
        resolve(onValue(value))
      } catch (thrown) {
        reject(thrown)
      }
    }, fail)
  })
}
