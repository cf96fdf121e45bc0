// The Node half of the behaviour suite's bridge: keeps each test app's real backend, users and
// tickets, answers the Worker's calls on the NODE service binding, and forwards the suite's
// requests into workerd.
import { alnum64IdFormat, djangoIdFormat } from '@sessionbridge/core'
import type { BehaviourApp, BehaviourAppOptions } from '@sessionbridge/core/testing/http'
import type { Miniflare } from '@sessionbridge/test-services/workerd'
import type { Integration } from '../app.ts'
import {
  APP_HEADER,
  type BridgeAnswer,
  type BridgeCall,
  type BridgeConfig,
  CLOCK_HEADER,
  HANDLE,
  INTEGRATION_HEADER,
} from './bridge.ts'

const BACKEND_METHODS = [
  'load',
  'create',
  'save',
  'touch',
  'destroy',
  'destroyUser',
  'listUser',
  'clearExpired',
]
const USER_METHODS = [
  'getById',
  'findByLogin',
  'verifyPassword',
  'hasPerm',
  'sessionHash',
  'verifySessionHash',
  'onLogin',
]

const TICKET_METHODS = ['issue', 'consume', 'revokeUser']

type Methods = Record<string, (...args: unknown[]) => Promise<unknown>>

/** The registry of live test apps, and the service binding function that serves them. */
export class BridgeHost {
  #apps = new Map<string, BehaviourAppOptions>()
  #users = new Map<number, object>()
  #next = 0

  /** The `serviceBindings.NODE` function for miniflare. */
  readonly serve = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname
    if (path === '/config') {
      const { app } = (await request.json()) as { app: string }
      const options = this.#apps.get(app)
      return options ? Response.json(this.#config(options)) : new Response('unknown app', { status: 404 })
    }
    const call = (await request.json()) as BridgeCall
    let answer: BridgeAnswer
    try {
      answer = { ok: true, value: this.#out(await this.#call(call)) }
    } catch (error) {
      const {
        name = 'Error',
        message = String(error),
        ...fields
      } = error instanceof Error ? { ...error, name: error.constructor.name, message: error.message } : {}
      answer = { ok: false, error: { name, message, fields: JSON.parse(JSON.stringify(fields)) } }
    }
    return Response.json(answer)
  }

  /** Registers `options` and returns the suite's handle on the app inside `mf`. */
  app(
    mf: () => Miniflare,
    options: BehaviourAppOptions,
    integration: Integration = 'middleware',
  ): BehaviourApp {
    const id = String(++this.#next)
    this.#apps.set(id, options)
    const now = options.session.now ?? Date.now
    return {
      fetch: async (request) => {
        const headers = new Headers(request.headers)
        headers.set(APP_HEADER, id)
        headers.set(CLOCK_HEADER, String(now() - Date.now()))
        headers.set(INTEGRATION_HEADER, integration)
        const response = await mf().dispatchFetch(request.url, {
          method: request.method,
          headers: Object.fromEntries(headers),
          redirect: 'manual',
        })
        return response as unknown as Response
      },
      close: async () => {
        this.#apps.delete(id)
      },
    }
  }

  #config(options: BehaviourAppOptions): BridgeConfig {
    const { backend, now: _now, tickets: sessionTickets, ...session } = options.session
    if (sessionTickets && sessionTickets !== options.tickets) {
      throw new Error('the bridge knows one ticket store: session.tickets must be options.tickets')
    }
    for (const [key, value] of Object.entries(session)) {
      const callable = (v: unknown) => typeof v === 'function'
      if (callable(value) || (value && typeof value === 'object' && Object.values(value).some(callable))) {
        throw new Error(`session option ${key} holds functions: it cannot cross the bridge`)
      }
    }
    const idFormat =
      backend.idFormat === djangoIdFormat ? 'django' : backend.idFormat === alnum64IdFormat ? 'alnum64' : null
    if (!idFormat) throw new Error(`backend ${backend.name} has an id format the bridge does not know`)
    const present = (object: object, names: string[]) =>
      names.filter((n) => typeof (object as Methods)[n] === 'function')
    return {
      session,
      sessionTickets: sessionTickets !== undefined,
      backend: {
        name: backend.name,
        // update() takes a function, which cannot cross the bridge: the bridged store does not offer it.
        capabilities: { ...backend.capabilities, update: false },
        idFormat,
        methods: present(backend, BACKEND_METHODS).filter((name) => name !== 'update'),
      },
      users: {
        methods: present(options.users, USER_METHODS),
        ...(options.users.backendPath === undefined ? {} : { backendPath: options.users.backendPath }),
      },
      tickets: options.tickets ? present(options.tickets, TICKET_METHODS) : null,
      trustProxy: options.trustProxy,
      realm: options.realm,
      permission: options.permission,
    }
  }

  async #call({ app, target, method, args }: BridgeCall): Promise<unknown> {
    const options = this.#apps.get(app)
    if (!options) throw new Error(`unknown app ${app}`)
    const object = { backend: options.session.backend, users: options.users, tickets: options.tickets }[
      target
    ]
    const fn = (object as Methods | null)?.[method]
    if (typeof fn !== 'function') throw new Error(`${target}.${method} is not there`)
    return fn.apply(
      object,
      args.map((a) => this.#in(a)),
    )
  }

  /** Users cross as plain data plus a handle; anything else as JSON. */
  #out(value: unknown): unknown {
    if (value && typeof value === 'object' && 'username' in value && 'isActive' in value) {
      const handle = ++this.#next
      this.#users.set(handle, value)
      return { ...value, permissions: undefined, [HANDLE]: handle }
    }
    return value
  }

  #in(value: unknown): unknown {
    if (value && typeof value === 'object' && HANDLE in value) {
      return this.#users.get((value as Record<string, number>)[HANDLE]!) ?? value
    }
    return value
  }
}
