// The Worker half of the behaviour suite's bridge: the suite (in Node) owns each test's backend,
// users and tickets; the Hono app runs inside workerd and reaches them through a service binding,
// the way an edge app reaches a store over the network. Web APIs only: this is bundled into the
// Worker.

import type { MemoryUserSource } from '@sessionbridge/core'
import {
  type AuthUser,
  alnum64IdFormat,
  type BackendCapabilities,
  djangoIdFormat,
  type IdFormat,
  type SessionBackend,
  SessionBackendError,
  SessionConflictError,
  SessionDataError,
  type SessionManagerOptions,
  SessionTimeoutError,
  type TicketStore,
  type UserSource,
} from '@sessionbridge/core'
import type { BehaviourAppOptions } from '@sessionbridge/core/testing/http'

/** Which side of the bridge a call goes to. */
export type BridgeTarget = 'backend' | 'users' | 'tickets'

/** One call from the Worker to Node. */
export interface BridgeCall {
  app: string
  target: BridgeTarget
  method: string
  args: unknown[]
}

/** A thrown error as it crosses: its class name, message and own fields. */
export interface BridgeError {
  name: string
  message: string
  fields: Record<string, unknown>
}

/** What Node answers a call with. */
export type BridgeAnswer = { ok: true; value: unknown } | { ok: false; error: BridgeError }

/** The thrown error again, of the class the lifecycle branches on (409, 503, data errors). */
function revive({ name, message, fields }: BridgeError): Error {
  const text = (key: string) => String(fields[key] ?? '')
  switch (name) {
    case 'SessionConflictError':
      return new SessionConflictError(text('backend'), text('key'), Number(fields.attempts))
    case 'SessionTimeoutError':
      return new SessionTimeoutError(text('backend'), text('operation'), Number(fields.timeoutMs))
    case 'SessionBackendError':
      return new SessionBackendError(text('backend'), text('operation'), message)
    case 'SessionDataError':
      return new SessionDataError('bridge', message)
    default:
      return new Error(message)
  }
}

/** An app's settings, as Node sends them: everything the Worker cannot call back for. */
export interface BridgeConfig {
  /** Session options minus the backend, the clock and the ticket store (JSON only). */
  session: Omit<SessionManagerOptions, 'backend' | 'now'>
  /** The session options name the ticket store (logout revokes its tickets). */
  sessionTickets: boolean
  backend: {
    name: string
    capabilities: BackendCapabilities
    idFormat: 'django' | 'alnum64'
    methods: string[]
  }
  users: { methods: string[]; backendPath?: string }
  /** The ticket store's methods, `null` for no store. */
  tickets: string[] | null
  trustProxy: boolean
  realm: string
  permission: string
}

/** Headers the host adds to each request it forwards. */
export const APP_HEADER = 'x-bridge-app'
export const CLOCK_HEADER = 'x-bridge-clock-offset'
/** Which integration the Worker builds the app with (`../app.ts`'s `Integration`). */
export const INTEGRATION_HEADER = 'x-bridge-integration'
/** A user crossing the bridge carries the handle Node keeps the real object under. */
export const HANDLE = '__bridgeHandle'

export const ID_FORMATS: Record<BridgeConfig['backend']['idFormat'], IdFormat> = {
  django: djangoIdFormat,
  alnum64: alnum64IdFormat,
}

interface ServiceBinding {
  fetch(input: string, init: RequestInit): Promise<Response>
}

/** Calls Node; an error answer becomes a thrown Error, as the store's own failure would. */
export function caller(node: ServiceBinding, app: string) {
  return async (target: BridgeTarget, method: string, args: unknown[]): Promise<unknown> => {
    const body: BridgeCall = { app, target, method, args }
    const response = await node.fetch('http://node/call', { method: 'POST', body: JSON.stringify(body) })
    const answer = (await response.json()) as BridgeAnswer
    if (!answer.ok) throw revive(answer.error)
    return answer.value
  }
}

type Call = ReturnType<typeof caller>

/** The options `buildApp` needs, each store a proxy over the bridge. */
export function bridgedOptions(config: BridgeConfig, call: Call, now: () => number): BehaviourAppOptions {
  const proxy = (target: BridgeTarget, methods: string[]) =>
    Object.fromEntries(methods.map((m) => [m, (...args: unknown[]) => call(target, m, args)]))
  const backend = {
    ...proxy('backend', config.backend.methods),
    name: config.backend.name,
    capabilities: config.backend.capabilities,
    idFormat: ID_FORMATS[config.backend.idFormat],
  } as unknown as SessionBackend
  const users = {
    ...proxy('users', config.users.methods),
    ...(config.users.backendPath === undefined ? {} : { backendPath: config.users.backendPath }),
  } as unknown as UserSource<AuthUser> as MemoryUserSource
  const tickets = config.tickets
    ? ({ name: 'bridged', ...proxy('tickets', config.tickets) } as unknown as TicketStore)
    : null
  return {
    session: { ...config.session, backend, now, ...(config.sessionTickets && tickets ? { tickets } : {}) },
    users,
    tickets,
    trustProxy: config.trustProxy,
    realm: config.realm,
    permission: config.permission,
  }
}
