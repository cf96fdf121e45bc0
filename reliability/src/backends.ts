import { memoryBackend, memoryTicketStore, type SessionBackend, type TicketStore } from '@sessionbridge/core'
import { randomString } from '@sessionbridge/core/adapter'
import { memcachedBackend, memcachedTicketStore } from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisBackend, redisTicketStore } from '@sessionbridge/redis'
import { restSessionsBackend } from '@sessionbridge/rest-sessions'
import { createServer as createRestSessionsServer } from '@sessionbridge/rest-sessions-server'
import { migrate, mysqlClient, pgClient, sqlBackend, sqlTicketStore } from '@sessionbridge/sql'
import { SERVICE_URLS, type ServiceName } from '@sessionbridge/test-services'
import { createClient } from 'redis'
import { ensureMariaDatabase, ensurePgDatabase, mariaPool, pgPool, relPrefix, relTable } from './services.ts'

/** A backend opened on its real server, with our own prefix or table, and how to let it go. */
export interface OpenedBackend {
  backend: SessionBackend
  close(): Promise<void>
}

/** Every backend with a server on this machine (plus memory), for suites that run on each. */
export interface BackendCase {
  name: string
  /** The service it needs, if any (for `serviceAvailable`). */
  service: ServiceName | null
  open(): Promise<OpenedBackend>
}

const quiet = { warn() {} }

/** A rest-sessions server in this process, on a free port, under a Redis namespace of its own. */
export async function startRestSessions(): Promise<{ url: string; host: string; stop(): Promise<void> }> {
  const redis = new URL(SERVICE_URLS.redis)
  // The protocol splits keys on ':', so the namespace is ours without one.
  const namespace = `sbt-rel-${randomString(8, 'abcdefghijklmnopqrstuvwxyz0123456789')}`
  const server = await createRestSessionsServer({
    redisHost: redis.hostname,
    redisPort: Number(redis.port || 6379),
    namespace,
    logLevel: 'none',
    wipeInterval: 0,
    // Patient with Redis: a busy shared machine must not turn into spurious 503s here.
    redisTimeout: 10_000,
  })
  const url = await server.listen({ port: 0, host: '127.0.0.1' })
  return {
    url,
    host: new URL(url).host,
    async stop() {
      await server.close()
      const client = createClient({ url: SERVICE_URLS.redis })
      client.on('error', () => {})
      await client.connect()
      for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
        if (keys.length) await client.unlink(keys)
      }
      client.destroy()
    },
  }
}

/** The rest-sessions backend on `url`; anonymous sessions live under one user id so tests can write freely. */
export const restBackend = (url: string, timeout = 2000): SessionBackend =>
  restSessionsBackend({ url, app: 'sbrel', anonymousId: 'anonymous', timeout, logger: quiet })

export const BACKENDS: BackendCase[] = [
  {
    name: 'memory',
    service: null,
    async open() {
      return { backend: memoryBackend(), close: async () => {} }
    },
  },
  {
    name: 'redis',
    service: 'redis',
    async open() {
      const client = createClient({ url: SERVICE_URLS.redis })
      client.on('error', () => {})
      await client.connect()
      const prefix = relPrefix('sess')
      const backend = redisBackend({ client: nodeRedisAdapter(client), prefix, logger: quiet })
      return {
        backend,
        async close() {
          for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
            if (keys.length) await client.unlink(keys)
          }
          client.destroy()
        },
      }
    },
  },
  {
    name: 'rest-sessions',
    service: 'redis',
    async open() {
      const server = await startRestSessions()
      return { backend: restBackend(server.url, 10_000), close: () => server.stop() }
    },
  },
  {
    name: 'memcached',
    service: 'memcached',
    async open() {
      const backend = memcachedBackend({
        servers: SERVICE_URLS.memcached.split(',').map((s) => s.trim()),
        prefix: relPrefix('sess'),
        logger: quiet,
      })
      return { backend, close: async () => backend.close?.() }
    },
  },
  {
    name: 'postgres',
    service: 'postgres',
    async open() {
      await ensurePgDatabase()
      const pool = pgPool(undefined, 20)
      const table = relTable('sess')
      await migrate(pgClient(pool), { layout: 'native', table })
      const backend = sqlBackend({ client: pgClient(pool), layout: 'native', table, logger: quiet })
      return {
        backend,
        async close() {
          await pool.query(`DROP TABLE IF EXISTS ${table}`)
          await pool.end()
        },
      }
    },
  },
  {
    name: 'mariadb',
    service: 'mariadb',
    async open() {
      await ensureMariaDatabase()
      const pool = mariaPool(undefined, 20)
      const table = relTable('sess')
      await migrate(mysqlClient(pool), { layout: 'native', table })
      const backend = sqlBackend({ client: mysqlClient(pool), layout: 'native', table, logger: quiet })
      return {
        backend,
        async close() {
          await pool.query(`DROP TABLE IF EXISTS ${table}`)
          await pool.end()
        },
      }
    },
  },
]

/** A ticket store on a real server, and how to let it go. */
export interface TicketCase {
  name: string
  service: ServiceName | null
  open(): Promise<{ store: TicketStore; close(): Promise<void> }>
}

export const TICKET_STORES: TicketCase[] = [
  {
    name: 'memory',
    service: null,
    open: async () => ({ store: memoryTicketStore(), close: async () => {} }),
  },
  {
    name: 'redis',
    service: 'redis',
    async open() {
      const client = createClient({ url: SERVICE_URLS.redis })
      client.on('error', () => {})
      await client.connect()
      const store = redisTicketStore({ client: nodeRedisAdapter(client), prefix: relPrefix('ticket') })
      return { store, close: async () => void client.destroy() }
    },
  },
  {
    name: 'memcached',
    service: 'memcached',
    async open() {
      const store = memcachedTicketStore({
        servers: SERVICE_URLS.memcached.split(',').map((s) => s.trim()),
        prefix: relPrefix('ticket'),
      })
      return { store, close: () => store.close() }
    },
  },
  {
    name: 'postgres',
    service: 'postgres',
    async open() {
      await ensurePgDatabase()
      const pool = pgPool(undefined, 20)
      const table = relTable('ticket')
      const store = sqlTicketStore({ client: pgClient(pool), table })
      await store.migrate()
      return {
        store,
        async close() {
          await pool.query(`DROP TABLE IF EXISTS ${table}`)
          await pool.end()
        },
      }
    },
  },
  {
    name: 'mariadb',
    service: 'mariadb',
    async open() {
      await ensureMariaDatabase()
      const pool = mariaPool(undefined, 20)
      const table = relTable('ticket')
      const store = sqlTicketStore({ client: mysqlClient(pool), table })
      await store.migrate()
      return {
        store,
        async close() {
          await pool.query(`DROP TABLE IF EXISTS ${table}`)
          await pool.end()
        },
      }
    },
  },
]
