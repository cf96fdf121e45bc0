import { SessionConfigError } from '@sessionbridge/core'

/**
 * The one thing sessionbridge needs from a Redis client: run a command and hand back its reply.
 * Error replies reject. Every command sessionbridge sends touches exactly one key, named by `key`
 * (it also appears in `args`), so clients that route by hash slot (Redis Cluster) can do so.
 */
export interface RedisCommands {
  send(key: string, args: readonly string[]): Promise<unknown>
}

/** The part of a node-redis v4/v5 client (or client pool) the adapter uses. */
export interface NodeRedisClientLike {
  sendCommand(args: string[]): Promise<unknown>
}

/** The part of a node-redis v4/v5 cluster client the adapter uses. */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string, isReadonly: boolean | undefined, args: string[]): Promise<unknown>
}

/** The part of an ioredis v5 client (`Redis` or `Cluster`) the adapter uses. */
export interface IoredisClientLike {
  call(command: string, args: string[]): Promise<unknown>
}

const PKG = 'redis'

const requireMethod = (client: unknown, method: string, adapter: string) => {
  if (client === null || typeof client !== 'object' || typeof Reflect.get(client, method) !== 'function') {
    throw new SessionConfigError(PKG, 'client', `%s passed to ${adapter}() has no ${method}() method`)
  }
}

/**
 * Adapts a connected node-redis client (`createClient()` from `redis` v4/v5) or client pool.
 * Configure `disableOfflineQueue: true` and a bounded `socket.reconnectStrategy` so a lost server
 * fails commands at once instead of queueing them.
 */
export function nodeRedisAdapter(client: NodeRedisClientLike): RedisCommands {
  requireMethod(client, 'sendCommand', 'nodeRedisAdapter')
  // node-redis keeps the array it is given without changing it: no copy (one per command).
  return { send: (_key, args) => client.sendCommand(args as string[]) }
}

/** Adapts a node-redis cluster client (`createCluster()`): each command is routed by its one key. */
export function nodeRedisClusterAdapter(cluster: NodeRedisClusterLike): RedisCommands {
  requireMethod(cluster, 'sendCommand', 'nodeRedisClusterAdapter')
  return { send: (key, args) => cluster.sendCommand(key, false, args as string[]) }
}

/**
 * Adapts an ioredis v5 client: `new Redis()` or `new Cluster()` (ioredis routes by key itself).
 * Configure `enableOfflineQueue: false` and a small `maxRetriesPerRequest` so a lost server fails
 * commands at once instead of queueing them.
 */
export function ioredisAdapter(client: IoredisClientLike): RedisCommands {
  requireMethod(client, 'call', 'ioredisAdapter')
  return {
    send: (_key, args) => {
      const [command, ...rest] = args
      return client.call(command!, rest)
    },
  }
}

/** Accepts either a ready `RedisCommands` or fails at startup naming the option. */
export function resolveCommands(client: unknown): RedisCommands {
  if (client === undefined || client === null) {
    throw new SessionConfigError(
      PKG,
      'client',
      'missing %s (wrap your client: nodeRedisAdapter(c) or ioredisAdapter(c))',
    )
  }
  if (typeof Reflect.get(client as object, 'send') !== 'function') {
    throw new SessionConfigError(
      PKG,
      'client',
      '%s must be a RedisCommands adapter: wrap your client with nodeRedisAdapter(c) or ioredisAdapter(c)',
    )
  }
  return client as RedisCommands
}

/** The message of an error reply or failure, for matching reply codes such as `NOSCRIPT`. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
