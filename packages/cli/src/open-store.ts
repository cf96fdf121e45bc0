import { type SessionBackend, SessionConfigError } from '@sessionbridge/core'
import { djangoCodec } from '@sessionbridge/django'
import { createMemcachedClient, memcachedBackend } from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { restSessionsBackend } from '@sessionbridge/rest-sessions'
import { DEFAULT_TABLES, migrate, migrateUserTable, type SqlClient, sqlBackend } from '@sessionbridge/sql'
import type { CliConfig } from './config.ts'
import { importDriver } from './errors.ts'
import { redisLister, type SessionLister, sqlLister } from './listers.ts'
import { openSqlClient } from './sql-client.ts'

/** An opened store: the backend, what the command can do beyond the contract, and how to close it. */
export interface OpenStore {
  readonly backend: SessionBackend
  /** Creates the native SQL schema; `null` where the store has no schema of its own. */
  readonly migrate: (() => Promise<void>) | null
  /** Walks every stored session id; `null` where the store cannot be enumerated (memcached, rest-sessions). */
  readonly lister: SessionLister | null
  close(): Promise<void>
}

/** Opens what `config` names. Drivers are imported on demand, so only the one in use must be installed. */
export async function openStore(config: CliConfig): Promise<OpenStore> {
  switch (config.backend) {
    case 'sql':
      return openSql(config)
    case 'redis':
      return openRedis(config)
    case 'memcached': {
      const client = createMemcachedClient({ servers: config.memcachedServers })
      const backend = memcachedBackend({ client, ...(config.prefix ? { prefix: config.prefix } : {}) })
      return { backend, migrate: null, lister: null, close: () => client.close() }
    }
    case 'rest-sessions': {
      const backend = restSessionsBackend({ url: config.sessionUrl!, app: config.sessionApp })
      return { backend, migrate: null, lister: null, close: async () => {} }
    }
  }
}

async function openSql(config: CliConfig): Promise<OpenStore> {
  const { client, close } = await openSqlClient(config.databaseUrl!)
  const table = config.table ?? DEFAULT_TABLES[config.layout]
  const backend = sqlBackend({
    client,
    layout: config.layout,
    table,
    ...(config.layout === 'django' ? { codec: djangoCodec({ secretKey: config.secretKey! }) } : {}),
    ...(config.userTable ? { userTable: config.userTable } : {}),
    logger: quietLogger,
  })
  const migrateNative = async () => {
    // The Django layout's user table is ours to create; django_session stays Django's.
    if (config.layout === 'django' && config.userTable) return migrateUserTable(client, config.userTable)
    if (config.layout === 'django') {
      throw new SessionConfigError(
        'cli',
        '--layout',
        "%s is django: Django's migrations own django_session; run `manage.py migrate` instead",
      )
    }
    await migrate(client as SqlClient, { layout: 'native', table })
  }
  return {
    backend,
    migrate: migrateNative,
    lister: sqlLister(client, config.layout, table),
    close: async () => {
      await backend.close()
      await close()
    },
  }
}

async function openRedis(config: CliConfig): Promise<OpenStore> {
  const { createClient } = await importDriver<typeof import('redis')>('redis')
  // No offline queue and a bounded connect: a down server is an error at once, not a hang.
  const client = createClient({
    url: config.redisUrl,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: false },
  })
  client.on('error', () => {})
  await client.connect()
  const commands = nodeRedisAdapter(client)
  const prefix = config.prefix ?? 'sb:sess:'
  return {
    backend: redisBackend({ client: commands, prefix, logger: quietLogger }),
    migrate: null,
    lister: redisLister(commands, prefix),
    close: async () => {
      await client.close()
    },
  }
}

/** Undecodable records are counted by the commands themselves; the backend need not print them. */
const quietLogger = { warn() {} }
