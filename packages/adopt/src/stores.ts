import { SessionConfigError } from '@sessionbridge/core'
import { backendCall } from '@sessionbridge/core/adapter'
import type { ForeignStore } from './types.ts'

/** What the Redis store reader needs: `@sessionbridge/redis`'s `RedisCommands` has this shape. */
export interface RedisCommandsLike {
  send(key: string, args: readonly string[]): Promise<unknown>
}

/** What the PostgreSQL store reader needs: `@sessionbridge/sql`'s `SqlClient` has this shape. */
export interface SqlQueryableLike {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>
}

/** What the memcached store reader needs: `@sessionbridge/memcached`'s client has this shape. */
export interface MemcachedLike {
  get(key: string): Promise<{ value: string } | null>
  delete(key: string): Promise<unknown>
}

const PKG = 'adopt'
/** Session ids of the connect family: uid-safe (base64url, 24 bytes -> 32 chars); a bound on anything longer. */
const ID = /^[A-Za-z0-9_-]{1,128}$/

/** JSON text to an object, `null` for anything else (a foreign store may hold what it likes). */
function parseObject(text: unknown): Record<string, unknown> | null {
  if (text !== null && typeof text === 'object' && !Array.isArray(text))
    return text as Record<string, unknown>
  if (typeof text !== 'string') return null
  try {
    const parsed: unknown = JSON.parse(text)
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

const io = <T>(operation: string, fn: () => Promise<T>): Promise<T> => backendCall(PKG, operation, fn)

/** connect-redis's layout: `<prefix><id>` holding the session as JSON. @default prefix 'sess:' */
export function redisForeignStore(options: { client: RedisCommandsLike; prefix?: string }): ForeignStore {
  if (!options?.client) throw new SessionConfigError(PKG, 'client', 'missing %s')
  const prefix = options.prefix ?? 'sess:'
  return {
    get: (id) =>
      ID.test(id)
        ? io('get', async () => parseObject(await options.client.send(prefix + id, ['GET', prefix + id])))
        : Promise.resolve(null),
    destroy: (id) =>
      io('destroy', async () => void (await options.client.send(prefix + id, ['DEL', prefix + id]))),
  }
}

/**
 * connect-pg-simple's layout: table `session (sid varchar PRIMARY KEY, sess json, expire timestamp)`.
 * Rows past `expire` are not sessions. @default table 'session'
 */
export function sqlForeignStore(options: { client: SqlQueryableLike; table?: string }): ForeignStore {
  if (!options?.client) throw new SessionConfigError(PKG, 'client', 'missing %s')
  const table = options.table ?? 'session'
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) {
    throw new SessionConfigError(PKG, 'table', '%s must be a plain name or schema.name')
  }
  const quoted = table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.')
  return {
    get: (id) =>
      ID.test(id)
        ? io('get', async () => {
            const { rows } = await options.client.query<{ sess: unknown }>(
              `SELECT sess FROM ${quoted} WHERE sid = $1 AND expire > now()`,
              [id],
            )
            return rows.length > 0 ? parseObject(rows[0]!.sess) : null
          })
        : Promise.resolve(null),
    destroy: (id) =>
      io(
        'destroy',
        async () => void (await options.client.query(`DELETE FROM ${quoted} WHERE sid = $1`, [id])),
      ),
  }
}

/** connect-memcached's layout: `<prefix><id>` holding the session as JSON. @default prefix '' */
export function memcachedForeignStore(options: { client: MemcachedLike; prefix?: string }): ForeignStore {
  if (!options?.client) throw new SessionConfigError(PKG, 'client', 'missing %s')
  const prefix = options.prefix ?? ''
  return {
    get: (id) =>
      ID.test(id)
        ? io('get', async () => parseObject((await options.client.get(prefix + id))?.value ?? null))
        : Promise.resolve(null),
    destroy: (id) => io('destroy', async () => void (await options.client.delete(prefix + id))),
  }
}
