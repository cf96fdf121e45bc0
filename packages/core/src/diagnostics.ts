/**
 * Events for observability, on `node:diagnostics_channel` where the runtime has it (Node, Bun,
 * Deno, workerd with nodejs_compat) and a no-op elsewhere. Nothing is computed unless someone
 * subscribes: a request pays one `hasSubscribers` check per backend call.
 *
 * Messages never carry session ids, data or user ids: only the backend's name, the operation, the
 * outcome, the duration and, for commits, the reason.
 */

import { builtinModule } from './native.ts'

/** Channel names; subscribe with `diagnostics_channel.subscribe(name, listener)`. */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  /** One message per backend call (load, create, save, update, touch, destroy, ...): `BackendCallEvent`. */
  backend: 'sessionbridge:backend',
  /** One message per committed request that did something, or dropped a write: `CommitEvent`. */
  commit: 'sessionbridge:commit',
})

/** How a call ended. `miss`: it answered "not there" (`null`/`false`): not found, expired, gone. */
export type CallOutcome = 'ok' | 'miss' | 'error' | 'timeout'

/** Published on `sessionbridge:backend`. */
export interface BackendCallEvent {
  backend: string
  operation: string
  outcome: CallOutcome
  durationMs: number
  /** The error's class name (`SessionBackendError`, `SessionTimeoutError`, ...) when `outcome` is `error` or `timeout`; its message stays out, since it may name a server. */
  errorName?: string
}

/** Published on `sessionbridge:commit`. */
export interface CommitEvent {
  backend: string
  /** The commit decision: `create`, `save`, `touch`, `regenerate`, `destroy`, `renew`, `degraded`, ... */
  reason: string
  outcome: 'ok' | 'lost' | 'error'
  /** Whole commit, backend calls included. */
  durationMs: number
  /**
   * The backend was unavailable under `onBackendError: 'continue'` and this request's writes were
   * dropped (never saved). Count these: they are the policy's cost.
   */
  dropped: boolean
}

interface ChannelLike {
  readonly hasSubscribers: boolean
  publish(message: unknown): void
}

interface DiagnosticsChannelModule {
  channel(name: string): ChannelLike
}

const silent: ChannelLike = { hasSubscribers: false, publish() {} }

function lookUpChannels(): { backend: ChannelLike; commit: ChannelLike } {
  const module = builtinModule('node:diagnostics_channel') as DiagnosticsChannelModule | undefined
  if (!module || typeof module.channel !== 'function') return { backend: silent, commit: silent }
  return {
    backend: module.channel(DIAGNOSTICS_CHANNELS.backend),
    commit: module.channel(DIAGNOSTICS_CHANNELS.commit),
  }
}

/** The channels, looked up once per process (channels are process-wide by name). */
export const channels: { readonly backend: ChannelLike; readonly commit: ChannelLike } = lookUpChannels()

// Node defines `performance` as a getter on the global object: naming it in `clock` ran a global
// lookup and the getter at every backend call (each takes a deadline), about 170 instructions.
const { performance: monotonic } = globalThis

/** Milliseconds since an arbitrary origin, for durations. */
export const clock = (): number => monotonic.now()
