import {
  memoryBackend,
  memoryTicketStore,
  type SessionBackend,
  type TicketStore,
  type UserSource,
} from '@sessionbridge/core'
import { djangoCodec, djangoUsers } from '@sessionbridge/django'
import { createMemcachedClient, memcachedBackend, memcachedTicketStore } from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisBackend, redisTicketStore } from '@sessionbridge/redis'
import { restSessionsBackend } from '@sessionbridge/rest-sessions'
import { sqlBackend, sqlTicketStore } from '@sessionbridge/sql'
import { createClient } from 'redis'
import type { ExampleConfig } from './config.ts'
import { type ExampleDatabase, openDatabase } from './database.ts'

/** Everything the apps share: one session store, one user table, one ticket store. */
export interface ExampleStack {
  backend: SessionBackend
  users: UserSource
  tickets: TicketStore
  database: ExampleDatabase
  /** Printed at start and shown on the pages, e.g. `sql (sqlite:/path)`. */
  label: string
  /** Django can read these sessions (Django's own table through the SQL backend). */
  sharedWithDjango: boolean
  close(): Promise<void>
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
    switch (config.backend) {
      case 'sql':
        backend = sqlBackend({ client: database.client, layout: 'django', codec })
        {
          const store = sqlTicketStore({ client: database.client })
          await store.migrate()
          tickets = store
        }
        break
      case 'redis': {
        const client = createClient({ url: config.redisUrl })
        client.on('error', () => {})
        await client.connect()
        closers.push(() => client.close())
        backend = redisBackend({ client: nodeRedisAdapter(client), prefix: 'shared-login:sess:' })
        tickets = redisTicketStore({ client: nodeRedisAdapter(client), prefix: 'shared-login:ticket:' })
        break
      }
      case 'memcached': {
        const client = createMemcachedClient({ servers: config.memcachedServers })
        closers.push(() => client.close())
        backend = memcachedBackend({ client, prefix: 'shared-login:sess:' })
        tickets = memcachedTicketStore({ client, prefix: 'shared-login:ticket:' })
        break
      }
      case 'memory':
        backend = memoryBackend()
        tickets = memoryTicketStore()
        break
      case 'rest-sessions':
        // The service holds sessions only; tickets stay in this process, which runs all three apps.
        backend = restSessionsBackend({
          url: config.sessionUrl!,
          app: config.sessionApp,
          anonymousId: 'anonymous',
        })
        tickets = memoryTicketStore()
        break
    }
    return {
      backend,
      users,
      tickets,
      database,
      label: describe(config),
      sharedWithDjango: config.backend === 'sql',
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
