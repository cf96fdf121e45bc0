import {
  SessionBackendError,
  SessionConfigError,
  type TicketPayload,
  type TicketStore,
} from '@sessionbridge/core'
import { randomToken } from '@sessionbridge/core/adapter'
import type { MemcachedClientAdapter } from './adapter.ts'
import { createMemcachedClient, type MemcachedClientOptions } from './client.ts'
import { checkPrefix, exptimeFor } from './keys.ts'

const PKG = 'memcached'
const TICKET_PATTERN = /^[A-Za-z0-9_-]{32}$/

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
  close(): Promise<void>
}

/**
 * One-time tickets in memcached. `issue` adds the ticket (never overwrites) with a TTL;
 * `consume` reads it with its CAS token and deletes it only if that token still matches
 * (`md <key> C<cas>`): of any number of racing consumers, exactly one gets the payload.
 * The exact expiry (ms) is kept in the value, since memcached counts whole seconds.
 */
export function memcachedTicketStore(options: MemcachedTicketStoreOptions): MemcachedTicketStore {
  if (!options || (!options.client && !options.servers)) {
    throw new SessionConfigError(PKG, 'servers', 'missing %s (or "client")')
  }
  const prefix = checkPrefix(PKG, 'prefix', options.prefix ?? 'sb:ticket:', 32)
  const now = options.now ?? Date.now
  const owned = !options.client
  const client = options.client ?? createMemcachedClient({ ...options, servers: options.servers! })

  const fail = (operation: string, error: unknown): never => {
    if (error instanceof SessionBackendError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new SessionBackendError(PKG, operation, message, { cause: error })
  }

  return {
    name: PKG,
    async issue(payload: TicketPayload, ttlMs: number): Promise<string> {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0)
        throw new RangeError('ticket ttl must be a positive number of ms')
      const expiresAt = now() + ttlMs
      const value = JSON.stringify({ e: expiresAt, p: payload })
      try {
        // 192 random bits make a collision unheard of; `add` makes one harmless anyway.
        for (let attempt = 0; attempt < 3; attempt++) {
          const ticket = randomToken(24)
          const result = await client.set(prefix + ticket, value, {
            exptime: exptimeFor(expiresAt, now()),
            mode: 'add',
          })
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
      let value: string
      try {
        const item = await client.get(key)
        if (!item) return null
        // Only the consumer whose delete matches the CAS it read wins; the others see NF or EX.
        if ((await client.delete(key, { cas: item.cas })) !== 'deleted') return null
        value = item.value
      } catch (error) {
        return fail('consume', error)
      }
      return parseTicket(value, now())
    },
    async close() {
      if (owned) await client.close?.()
    },
  }
}

function parseTicket(value: string, now: number): TicketPayload | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return null
  }
  if (!parsed || typeof parsed !== 'object') return null
  const { e, p } = parsed as { e?: unknown; p?: unknown }
  if (typeof e !== 'number' || e <= now || !p || typeof p !== 'object') return null
  const payload = p as TicketPayload
  if (typeof payload.userId !== 'string' || typeof payload.username !== 'string') return null
  return payload
}
