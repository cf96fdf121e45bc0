// For adapters on Node's `http.ServerResponse` without a hook before the headers are sent
// (Express, Connect, plain `node:http`): hold the response until the session is committed.
import type { RequestSession } from './request.ts'

/** The part of Node's `http.ServerResponse` the gate uses. */
export interface NodeResponse {
  end: (...args: never[]) => unknown
  write: (...args: never[]) => unknown
  readonly headersSent: boolean
  appendHeader(name: string, value: string): unknown
  destroy(error?: Error): unknown
}

interface GateConfig {
  state(res: NodeResponse): RequestSession | null
  fail(res: NodeResponse, error: unknown): void
}
type Method = (...args: unknown[]) => unknown
/** What a held response is waiting with. */
interface Hold {
  readonly gate: GateConfig
  readonly end: Method
  readonly write: Method
  /** `null`: nothing sent yet; a list: waiting for the commit; `true`: sent (a kept wrapper passes through). */
  queue: unknown[][] | null | true
}

// Kept beside the response, not on it: every property added to an Express response copies its
// hidden class (about 1 µs each); only the two methods the gate must replace go on it.
const holds = new WeakMap<NodeResponse, Hold>()

// Shared by every response: a held response costs no closures.
function end(this: NodeResponse, ...args: unknown[]) {
  return send(this, 'end', args)
}
function write(this: NodeResponse, ...args: unknown[]) {
  send(this, 'write', args)
  return true
}

function release(held: NodeResponse, hold: Hold): void {
  held.end = hold.end as NodeResponse['end']
  held.write = hold.write as NodeResponse['write']
  hold.queue = true
}

/**
 * Holds a response's first `write`/`end` while its session commits, adds the `Set-Cookie` values,
 * then sends. A response whose session was never used goes out at once. Made once per app.
 */
export class ResponseGate<Res extends NodeResponse> {
  readonly #config: GateConfig

  /**
   * `state` finds the response's request state (`null`: never opened); `fail` hands a commit
   * failure (or a header Node refuses) to the framework's error handling.
   */
  constructor(state: (res: Res) => RequestSession | null, fail: (res: Res, error: unknown) => void) {
    this.#config = { state, fail } as GateConfig
  }

  /** Takes over `res.write`/`res.end` (as they are now: other middleware's wrappers stay inside). Once per response. */
  hold(res: Res): void {
    if (holds.has(res)) return // held already (a second middleware on the same request)
    holds.set(res, { gate: this.#config, end: res.end as Method, write: res.write as Method, queue: null })
    res.end = end as Res['end']
    res.write = write as Res['write']
  }
}

/** The first `write`/`end`: commit (when the session was used), then send in order. */
function send(held: NodeResponse, method: 'end' | 'write', args: unknown[]): NodeResponse {
  const hold = holds.get(held)!
  const queue = hold.queue
  if (queue === true) {
    hold[method].apply(held, args)
    return held
  }
  if (queue) {
    queue.push([method, ...args])
    return held
  }
  const state = hold.gate.state(held)
  if (!state || state.settled) {
    release(held, hold)
    ;(held[method] as (...a: unknown[]) => unknown).apply(held, args)
    return held
  }
  // Until the commit is done, later writes (also through wrappers that kept ours) wait in order.
  const pending: unknown[][] = [[method, ...args]]
  hold.queue = pending
  state.finish().then(
    (cookies) => {
      release(held, hold)
      try {
        if (!held.headersSent) for (const cookie of cookies) held.appendHeader('Set-Cookie', cookie)
        for (const [m, ...a] of pending) (held[m as 'end'] as (...x: unknown[]) => unknown)(...a)
      } catch (error) {
        failSafely(held, error)
      }
    },
    (error: unknown) => {
      release(held, hold)
      failSafely(held, error)
    },
  )
  return held
}

function failSafely(held: NodeResponse, error: unknown): void {
  try {
    holds.get(held)!.gate.fail(held, error)
  } catch (again) {
    held.destroy(again as Error)
  }
}
