import { createHash } from 'node:crypto'
import {
  SessionBackendError,
  SessionConfigError,
  SessionDataError,
  type TicketPayload,
  type TicketStore,
} from '@sessionbridge/core'
import { randomToken } from '@sessionbridge/core/adapter'
import type { MemcachedClientAdapter } from './adapter.ts'
import { createMemcachedClient, type MemcachedClientOptions } from './client.ts'
import { checkPrefix, exptimeFor } from './keys.ts'

const PKG = 'memcached'
const TICKET_PATTERN = /^[A-Za-z0-9_-]{32}$/
/** `user:` and a SHA-256 in hex: the longest key suffix the store writes. */
const USER_SUFFIX_LENGTH = 5 + 64

/** Options of `memcachedTicketStore`. Give `servers` (built-in client) or `client` (your own). */
export interface MemcachedTicketStoreOptions extends Partial<MemcachedClientOptions> {
  /** A client you bring; never closed by the store. */
  client?: MemcachedClientAdapter
  /** Prepended to every ticket to form the key. @default 'sb:ticket:' */
  prefix?: string
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

/** The memcached ticket store; `close()` releases the built-in client. */
export interface MemcachedTicketStore extends TicketStore {
  /** Makes every unconsumed ticket of `userId` void (logout calls it): one delete. */
  revokeUser(userId: string): Promise<void>
  close(): Promise<void>
}

/**
 * One-time tickets in memcached. `issue` adds the ticket (never overwrites) with a TTL;
 * `consume` reads it with its CAS token and deletes it only if that token still matches
 * (`md <key> C<cas>`): of any number of racing consumers, exactly one gets the payload.
 * The exact expiry (ms) is kept in the value, since memcached counts whole seconds.
 *
 * memcached cannot list keys, so revocation works by generation: each user has a random
 * generation (`<prefix>user:<sha256 of the id>`, living at least as long as the user's newest
 * ticket), each ticket carries the generation it was issued under, and `consume` accepts it only
 * while that generation is current. `revokeUser` deletes the generation: every ticket issued
 * before is void, including one whose issue raced the revocation. A generation that is gone
 * (revoked, evicted, or its server restarted) voids the tickets: it fails closed.
 */
export function memcachedTicketStore(options: MemcachedTicketStoreOptions): MemcachedTicketStore {
  if (!options || (!options.client && !options.servers)) {
    throw new SessionConfigError(PKG, 'servers', 'missing %s (or "client")')
  }
  const prefix = checkPrefix(PKG, 'prefix', options.prefix ?? 'sb:ticket:', USER_SUFFIX_LENGTH)
  const now = options.now ?? Date.now
  const owned = !options.client
  const client = options.client ?? createMemcachedClient({ ...options, servers: options.servers! })

  const fail = (operation: string, error: unknown): never => {
    if (error instanceof SessionBackendError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new SessionBackendError(PKG, operation, message, { cause: error })
  }
  const userKeyOf = (userId: string) =>
    `${prefix}user:${createHash('sha256').update(userId, 'utf8').digest('hex')}`

  /** The user's current generation, made if there is none; kept alive for `seconds` at least. */
  const generationOf = async (userKey: string, seconds: number, exptime: number): Promise<string> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const item = await client.get(userKey)
      if (item) {
        if (item.ttl !== -1 && item.ttl < seconds) await client.touch(userKey, exptime)
        return item.value
      }
      const fresh = randomToken(16)
      if ((await client.set(userKey, fresh, { exptime, mode: 'add' })) === 'stored') return fresh
    }
    throw new SessionBackendError(PKG, 'issue', "the user's ticket generation kept changing")
  }

  return {
    name: PKG,
    async issue(payload: TicketPayload, ttlMs: number): Promise<string> {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0)
        throw new RangeError('ticket ttl must be a positive number of ms')
      if (!payload || typeof payload.userId !== 'string' || typeof payload.username !== 'string') {
        throw new SessionDataError(PKG, 'a ticket payload needs string userId and username')
      }
      const expiresAt = now() + ttlMs
      try {
        const exptime = exptimeFor(expiresAt, now())
        const seconds = Math.ceil(ttlMs / 1000) + 1
        const g = await generationOf(userKeyOf(payload.userId), seconds, exptime)
        const value = JSON.stringify({ e: expiresAt, g, p: payload })
        // 192 random bits make a collision unheard of; `add` makes one harmless anyway.
        for (let attempt = 0; attempt < 3; attempt++) {
          const ticket = randomToken(24)
          const result = await client.set(prefix + ticket, value, { exptime, mode: 'add' })
          if (result === 'stored') return ticket
        }
      } catch (error) {
        fail('issue', error)
      }
      throw new SessionBackendError(PKG, 'issue', 'no free ticket after 3 attempts')
    },
    async consume(ticket: string): Promise<TicketPayload | null> {
      if (typeof ticket !== 'string' || !TICKET_PATTERN.test(ticket)) return null
      const key = prefix + ticket
      try {
        const item = await client.get(key)
        if (!item) return null
        // Only the consumer whose delete matches the CAS it read wins; the others see NF or EX.
        if ((await client.delete(key, { cas: item.cas })) !== 'deleted') return null
        const ticketValue = parseTicket(item.value, now())
        if (!ticketValue) return null
        // Void unless issued under the user's current generation (revokeUser deletes it).
        const current = await client.get(userKeyOf(ticketValue.payload.userId))
        return current?.value === ticketValue.generation ? ticketValue.payload : null
      } catch (error) {
        return fail('consume', error)
      }
    },
    async revokeUser(userId: string) {
      try {
        await client.delete(userKeyOf(String(userId)))
      } catch (error) {
        fail('revokeUser', error)
      }
    },
    async close() {
      if (owned) await client.close?.()
    },
  }
}

/** A stored ticket's payload and generation, or `null` when expired or not of this store's form. */
function parseTicket(value: string, now: number): { payload: TicketPayload; generation: string } | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return null
  }
  if (!parsed || typeof parsed !== 'object') return null
  const { e, g, p } = parsed as { e?: unknown; g?: unknown; p?: unknown }
  // A ticket without a generation (issued by 0.1.0) cannot be checked against revocation: refused.
  if (typeof e !== 'number' || e <= now || typeof g !== 'string' || !p || typeof p !== 'object') return null
  const payload = p as TicketPayload
  if (typeof payload.userId !== 'string' || typeof payload.username !== 'string') return null
  return { payload, generation: g }
}
