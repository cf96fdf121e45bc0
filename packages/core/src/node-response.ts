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

const kGate = Symbol('sessionbridge.gate')
const kEnd = Symbol('sessionbridge.end')
const kWrite = Symbol('sessionbridge.write')
const kQueue = Symbol('sessionbridge.queue')
interface GateConfig {
  state(res: NodeResponse): RequestSession | null
  fail(res: NodeResponse, error: unknown): void
}
type Held = NodeResponse & {
  [kGate]: GateConfig
  [kEnd]: (...args: unknown[]) => unknown
  [kWrite]: (...args: unknown[]) => unknown
  /** `null`: nothing sent yet; a list: waiting for the commit; `true`: sent (a kept wrapper passes through). */
  [kQueue]: unknown[][] | null | true
}

// Shared by every response: a held response costs no closures.
function end(this: Held, ...args: unknown[]) {
  return send(this, 'end', args)
}
function write(this: Held, ...args: unknown[]) {
  send(this, 'write', args)
  return true
}

function release(held: Held): void {
  held.end = held[kEnd] as Held['end']
  held.write = held[kWrite] as Held['write']
  held[kQueue] = true
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
    const held = res as unknown as Held
    if (held[kGate]) return // held already (a second middleware on the same request)
    held[kGate] = this.#config
    held[kEnd] = res.end as Held[typeof kEnd]
    held[kWrite] = res.write as Held[typeof kWrite]
    held[kQueue] = null
    res.end = end as Res['end']
    res.write = write as Res['write']
  }
}

/** The first `write`/`end`: commit (when the session was used), then send in order. */
function send(held: Held, method: 'end' | 'write', args: unknown[]): Held {
  const queue = held[kQueue]
  if (queue === true) {
    held[method === 'end' ? kEnd : kWrite].apply(held, args)
    return held
  }
  if (queue) {
    queue.push([method, ...args])
    return held
  }
  const config = held[kGate]
  const state = config.state(held)
  if (!state || state.untouched) {
    release(held)
    ;(held[method] as (...a: unknown[]) => unknown).apply(held, args)
    return held
  }
  // Until the commit is done, later writes (also through wrappers that kept ours) wait in order.
  const pending: unknown[][] = [[method, ...args]]
  held[kQueue] = pending
  state.finish().then(
    (cookies) => {
      release(held)
      try {
        if (!held.headersSent) for (const cookie of cookies) held.appendHeader('Set-Cookie', cookie)
        for (const [m, ...a] of pending) (held[m as 'end'] as (...x: unknown[]) => unknown)(...a)
      } catch (error) {
        failSafely(held, error)
      }
    },
    (error: unknown) => {
      release(held)
      failSafely(held, error)
    },
  )
  return held
}

function failSafely(held: Held, error: unknown): void {
  try {
    held[kGate].fail(held, error)
  } catch (again) {
    held.destroy(again as Error)
  }
}
