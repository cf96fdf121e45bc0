import {
  type AttemptStore,
  type CsrfExtensionOptions,
  type LoginThrottle,
  loginThrottle,
  memoryAttemptStore,
  memoryBackend,
  memoryTicketStore,
  type SessionBackend,
  type TicketStore,
  type UserSource,
} from '@sessionbridge/core'
import { djangoCodec, djangoUsers } from '@sessionbridge/django'
import {
  createMemcachedClient,
  memcachedAttemptStore,
  memcachedBackend,
  memcachedTicketStore,
} from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisAttemptStore, redisBackend, redisTicketStore } from '@sessionbridge/redis'
import { restSessionsBackend } from '@sessionbridge/rest-sessions'
import { sqlAttemptStore, sqlBackend, sqlTicketStore } from '@sessionbridge/sql'
import { createClient, type RedisClientOptions } from 'redis'
import type { ExampleConfig } from './config.ts'
import { type ExampleDatabase, openDatabase } from './database.ts'
import { exampleCsrf } from './security.ts'

/** Everything the apps share: one session store, one user table, one ticket store. */
export interface ExampleStack {
  backend: SessionBackend
  users: UserSource
  tickets: TicketStore
  /** Login attempt limits, kept in the same kind of store as the sessions (core's defaults). */
  throttle: LoginThrottle
  /** The CSRF options of the Node apps (the token format of the Django beside them). */
  csrf: CsrfExtensionOptions
  database: ExampleDatabase
  /** Printed at start and shown on the pages, e.g. `sql (sqlite:/path)`. */
  label: string
  /** Django can read these sessions (Django's own table through the SQL backend). */
  sharedWithDjango: boolean
  /** Milliseconds one session backend call may take before the request gets a 503. */
  sessionTimeout: number
  /** `SESSION_COOKIE_SECURE` and `TRUST_PROXY`, for the apps' session options. */
  cookieSecure: boolean
  trustProxy: boolean
  close(): Promise<void>
}

/**
 * A network cache answers in about a millisecond: past one second it is down, and the request is
 * better off with a 503 at once than waiting for the 5 s default. SQL keeps the default (a
 * database under load, a lock held by Django), and so does rest-sessions: each call is an HTTP
 * request to a service that itself waits on Redis, and a burst (the 200-way counter race on a
 * loaded 2-core box) took more than a second.
 */
export const CACHE_SESSION_TIMEOUT_MS = 1000
const DEFAULT_SESSION_TIMEOUT_MS = 5000

/**
 * The node-redis client as `@sessionbridge/redis` recommends: no offline queue (a command during an
 * outage fails at once instead of waiting, and is never replayed after the restart) and a bounded
 * connect; reconnects back off up to 1 s, so service resumes about a second after Redis returns.
 */
export function exampleRedisOptions(url: string): RedisClientOptions {
  return {
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CACHE_SESSION_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
    },
  }
}

/** Where the sessions live, without credentials. */
function describe(config: ExampleConfig): string {
  const hide = (url: string) => url.replace(/\/\/[^@/]*@/, '//')
  switch (config.backend) {
    case 'sql':
      return `sql (${hide(config.databaseUrl)})`
    case 'redis':
      return `redis (${hide(config.redisUrl)})`
    case 'memcached':
      return `memcached (${config.memcachedServers.join(',')})`
    case 'rest-sessions':
      return `rest-sessions (${hide(config.sessionUrl ?? '')}, app ${config.sessionApp})`
    case 'memory':
      return 'memory (this process only)'
  }
}

/** 12 hex characters naming the user database, without its credentials. */
async function userSpace(databaseUrl: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(databaseUrl))
  return [...new Uint8Array(digest).subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/**
 * Opens the database (users always come from Django's `auth_user`) and the session backend chosen
 * by `SESSION_BACKEND`. Everything opened here is closed by `close()`.
 */
export async function openStack(config: ExampleConfig): Promise<ExampleStack> {
  const database = await openDatabase(config)
  const closers: Array<() => Promise<unknown>> = [() => database.close()]
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => {})
  }
  try {
    const { secretKey, djangoVersion, secretKeyFallbacks: fallbackKeys } = config
    const users = djangoUsers({ client: database.client, secretKey, fallbackKeys, djangoVersion })
    const codec = djangoCodec({ secretKey, fallbackKeys, djangoVersion })
    let backend: SessionBackend
    let tickets: TicketStore
    let attempts: AttemptStore
    // One counter space per user table (the users the counters are about): a fresh test database
    // gets fresh counters on the shared Redis and memcached.
    const space = await userSpace(config.databaseUrl)
    switch (config.backend) {
      case 'sql':
        backend = sqlBackend({ client: database.client, layout: 'django', codec })
        {
          const store = sqlTicketStore({ client: database.client })
          await store.migrate()
          tickets = store
          // Django's login view counts in the same table (django/sharedlogin/throttle.py).
          const counters = sqlAttemptStore({ client: database.client })
          await counters.migrate()
          attempts = counters
        }
        break
      case 'redis': {
        const client = createClient(exampleRedisOptions(config.redisUrl))
        // Reconnects by itself; failed commands surface as SessionBackendError (503).
        client.on('error', () => {})
        await client.connect()
        closers.push(() => client.close())
        backend = redisBackend({ client: nodeRedisAdapter(client), prefix: `${config.keyPrefix}sess:` })
        tickets = redisTicketStore({ client: nodeRedisAdapter(client), prefix: `${config.keyPrefix}ticket:` })
        attempts = redisAttemptStore({
          client: nodeRedisAdapter(client),
          prefix: `${config.keyPrefix}attempts:${space}:`,
        })
        break
      }
      case 'memcached': {
        const client = createMemcachedClient({ servers: config.memcachedServers })
        closers.push(() => client.close())
        backend = memcachedBackend({ client, prefix: `${config.keyPrefix}sess:` })
        tickets = memcachedTicketStore({ client, prefix: `${config.keyPrefix}ticket:` })
        attempts = memcachedAttemptStore({ client, prefix: `${config.keyPrefix}att:${space}:` })
        break
      }
      case 'memory':
        backend = memoryBackend()
        tickets = memoryTicketStore()
        attempts = memoryAttemptStore()
        break
      case 'rest-sessions':
        // The service holds sessions only; tickets stay in this process, which runs all three apps.
        backend = restSessionsBackend({
          url: config.sessionUrl!,
          app: config.sessionApp,
          anonymousId: 'anonymous',
        })
        tickets = memoryTicketStore()
        attempts = memoryAttemptStore()
        break
    }
    return {
      backend,
      users,
      tickets,
      throttle: loginThrottle({ store: attempts }),
      csrf: exampleCsrf(config),
      database,
      label: describe(config),
      sharedWithDjango: config.backend === 'sql',
      sessionTimeout: ['redis', 'memcached'].includes(config.backend)
        ? CACHE_SESSION_TIMEOUT_MS
        : DEFAULT_SESSION_TIMEOUT_MS,
      cookieSecure: config.cookieSecure,
      trustProxy: config.trustProxy,
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
