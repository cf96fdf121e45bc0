import {
  SessionBackendError,
  SessionConfigError,
  SessionDataError,
  type SessionLogger,
  type TicketPayload,
  type TicketStore,
} from '@sessionbridge/core'
import { backendCall, isPlainObject, randomToken } from '@sessionbridge/core/adapter'
import { type RedisCommands, resolveCommands } from './commands.ts'

/** Options of `redisTicketStore`. */
export interface RedisTicketStoreOptions {
  /** The client, wrapped: `nodeRedisAdapter(client)` or `ioredisAdapter(client)`. */
  client: RedisCommands
  /** Prefix of every ticket key: `<prefix><ticket>`. @default 'sb:ticket:' */
  prefix?: string
  /** Where warnings about undecodable stored tickets go. @default console */
  logger?: SessionLogger
}

const PKG = 'redis'
/** 24 random bytes (192 bits), base64url: 32 characters. */
const TICKET_BYTES = 24
const TICKET_PATTERN = /^[A-Za-z0-9_-]{32}$/
/** Fresh tickets to try if one is somehow taken (a 192-bit collision: never, in practice). */
const ISSUE_ATTEMPTS = 3

/**
 * One-time tickets in Redis. `issue` is `SET <key> <payload> NX PX <ttl>`; `consume` is `GETDEL`,
 * atomic on the server, so of any number of concurrent consumers exactly one gets the payload.
 * Each user's tickets are also indexed (`<prefix>user:<id>`, a set) so `revokeUser` (logout) can
 * delete them.
 * Needs Redis 6.2 or later (GETDEL).
 */
export function redisTicketStore(options: RedisTicketStoreOptions): TicketStore {
  if (!options || typeof options !== 'object') throw new SessionConfigError(PKG, 'client', 'missing %s')
  const commands = resolveCommands(options.client)
  const prefix = options.prefix ?? 'sb:ticket:'
  if (typeof prefix !== 'string') throw new SessionConfigError(PKG, 'prefix', '%s must be a string')
  const resolved = Object.freeze({ prefix, logger: options.logger ?? console })
  const keyOf = (ticket: string) => `${resolved.prefix}${ticket}`
  // The user's tickets, so logout can revoke them (the index lives as long as the newest ticket).
  const userKeyOf = (userId: string) => `${resolved.prefix}user:${userId}`

  const io = (operation: string, key: string, args: string[]): Promise<unknown> =>
    backendCall(PKG, operation, () => commands.send(key, args))

  return {
    name: PKG,
    async issue(payload: TicketPayload, ttlMs: number) {
      if (
        !isPlainObject(payload) ||
        typeof payload.userId !== 'string' ||
        typeof payload.username !== 'string'
      ) {
        throw new SessionDataError(PKG, 'a ticket payload needs string userId and username')
      }
      if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
        throw new SessionDataError(PKG, 'a ticket ttl must be a positive whole number of milliseconds')
      }
      const text = JSON.stringify(payload)
      for (let attempt = 0; attempt < ISSUE_ATTEMPTS; attempt++) {
        const ticket = randomToken(TICKET_BYTES)
        const key = keyOf(ticket)
        const reply = await io('issue', key, ['SET', key, text, 'NX', 'PX', String(ttlMs)])
        if (reply === 'OK') {
          const userKey = userKeyOf(payload.userId)
          await io('issue', userKey, ['SADD', userKey, ticket])
          await io('issue', userKey, ['PEXPIRE', userKey, String(ttlMs)])
          return ticket
        }
      }
      throw new SessionBackendError(PKG, 'issue', `no free ticket after ${ISSUE_ATTEMPTS} attempts`)
    },

    async consume(ticket: string) {
      // Malformed input never reaches Redis.
      if (typeof ticket !== 'string' || !TICKET_PATTERN.test(ticket)) return null
      const key = keyOf(ticket)
      const stored = await io('consume', key, ['GETDEL', key])
      if (stored === null || stored === undefined) return null
      let payload: unknown = null
      try {
        payload = typeof stored === 'string' ? JSON.parse(stored) : null
      } catch {
        payload = null
      }
      if (
        !isPlainObject(payload) ||
        typeof payload.userId !== 'string' ||
        typeof payload.username !== 'string'
      ) {
        resolved.logger.warn('[sessionbridge/redis] a stored ticket does not decode; refusing it')
        return null
      }
      return payload as TicketPayload
    },

    async revokeUser(userId: string) {
      const userKey = userKeyOf(String(userId))
      const tickets = await io('revokeUser', userKey, ['SMEMBERS', userKey])
      for (const ticket of Array.isArray(tickets) ? tickets : []) {
        if (typeof ticket === 'string' && TICKET_PATTERN.test(ticket)) {
          await io('revokeUser', keyOf(ticket), ['DEL', keyOf(ticket)])
        }
      }
      await io('revokeUser', userKey, ['DEL', userKey])
    },
  }
}
