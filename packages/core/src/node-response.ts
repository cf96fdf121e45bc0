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
  /** Held by its home's methods: nothing of ours on the response to take back. */
  readonly atHome: boolean
}

// Kept beside the response, not on it: every property added to an Express response copies its
// hidden class (about 1 µs each); only the two methods the gate must replace go on it.
const holds = new WeakMap<NodeResponse, Hold>()

/** How a held `end` or `write` is routed: the method's own answer, or `undefined` while it waits. */
type Route = (held: NodeResponse, method: 'end' | 'write', args: unknown[]) => unknown

/**
 * The `end` and `write` that stand in for a response's own: `end` answers the response, `write`
 * the stream's answer once the call went through (its backpressure), `true` while it waits.
 */
function methodsVia(route: Route) {
  return {
    end(this: NodeResponse, ...args: unknown[]) {
      route(this, 'end', args)
      return this
    },
    write(this: NodeResponse, ...args: unknown[]) {
      const answer = route(this, 'write', args)
      return typeof answer === 'boolean' ? answer : true
    },
  }
}

// Shared by every response: a held response costs no closures.
const { end, write } = methodsVia(send)

/**
 * Lets the response's writes through. A hold at home leaves the map at once: the home's methods
 * then find the session settled and pass on, and the map holds only the responses still waiting.
 * Kept until each response was collected, every scavenge walked them all (a `WeakMap` is an
 * ephemeron table): Express's increment spent 17.5k instructions a request in GC instead of 8.3k.
 */
function release(held: NodeResponse, hold: Hold): void {
  if (!hold.atHome) {
    held.end = hold.end as NodeResponse['end']
    held.write = hold.write as NodeResponse['write']
  } else holds.delete(held)
  hold.queue = true
}

/** The homes whose `end`/`write` are ours, each with the gate that put them there. */
const homes = new WeakMap<object, GateConfig>()

/**
 * Puts `end` and `write` on `home` that hold a response of a used session on its first write: a
 * response that inherits them and has none of its own is held without a property of its own.
 * The methods they stand in front of are `home`'s prototype's, looked up at each call.
 */
function installAtHome(home: object, gate: GateConfig): void {
  homes.set(home, gate)
  const inherited = (method: 'end' | 'write') =>
    Reflect.get(Object.getPrototypeOf(home) as object, method) as Method
  const { end, write } = methodsVia((held, method, args) => {
    const hold = holds.get(held)
    if (hold?.atHome) return send(held, method, args)
    // Held by methods of its own (which call these once released), or a session never used: pass on.
    const state = hold === undefined ? gate.state(held) : null
    if (!state || state.settled) return inherited(method).apply(held, args)
    holds.set(held, { gate, end: inherited('end'), write: inherited('write'), queue: null, atHome: true })
    return send(held, method, args)
  })
  Object.defineProperties(home, {
    end: { configurable: true, writable: true, value: end },
    write: { configurable: true, writable: true, value: write },
  })
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

  /**
   * Takes over `res.write`/`res.end` (as they are now: other middleware's wrappers stay inside).
   * Once per response. `home`: an object the response inherits from for its whole life (Express:
   * the root app's response prototype). While the response has no `end` or `write` of its own, the
   * home's (put there once) hold it, and nothing is written on the response: adding a property to
   * an Express response copies its hidden class (the gate's two cost ~50k instructions a request).
   */
  hold(res: Res, home?: object): void {
    if (holds.has(res)) return // held already (a second middleware on the same response)
    if (home !== undefined && !Object.hasOwn(res, 'end') && !Object.hasOwn(res, 'write')) {
      const installed = homes.get(home)
      if (installed === undefined) installAtHome(home, this.#config)
      if (installed === undefined || installed === this.#config) return
    }
    holds.set(res, {
      gate: this.#config,
      end: res.end as Method,
      write: res.write as Method,
      queue: null,
      atHome: false,
    })
    res.end = end as Res['end']
    res.write = write as Res['write']
  }
}

/**
 * The first `write`/`end`: commit (when the session was used), then send in order. The method's
 * own answer when the call went through, `undefined` while it waits for the commit.
 */
function send(held: NodeResponse, method: 'end' | 'write', args: unknown[]): unknown {
  const hold = holds.get(held)!
  const queue = hold.queue
  if (queue === true) return hold[method].apply(held, args)
  if (queue) {
    queue.push([method, ...args])
    return undefined
  }
  const state = hold.gate.state(held)
  if (!state || state.settled) {
    release(held, hold)
    return (held[method] as (...a: unknown[]) => unknown).apply(held, args)
  }
  // Until the commit is done, later writes (also through wrappers that kept ours) wait in order.
  const pending: unknown[][] = [[method, ...args]]
  hold.queue = pending
  // `finishThen`: on the common end, these run in the commit's own reaction (a promise fewer).
  state.finishThen(
    (cookies) => {
      release(held, hold)
      try {
        // `Reflect.get`: a getter deep on the response's prototypes (see `RequestSlot` on why).
        if (!Reflect.get(held, 'headersSent'))
          for (const cookie of cookies) held.appendHeader('Set-Cookie', cookie)
        for (const [m, ...a] of pending) (held[m as 'end'] as (...x: unknown[]) => unknown)(...a)
      } catch (error) {
        failSafely(held, hold.gate, error)
      }
    },
    (error: unknown) => {
      release(held, hold)
      failSafely(held, hold.gate, error)
    },
  )
  return undefined
}

function failSafely(held: NodeResponse, gate: GateConfig, error: unknown): void {
  try {
    gate.fail(held, error)
  } catch (again) {
    held.destroy(again as Error)
  }
}
