import { SessionConfigError } from './errors.ts'
import { randomToken } from './ids.ts'
import type { TicketPayload, TicketStore } from './tickets.ts'

/** Options of `memoryTicketStore`. */
export interface MemoryTicketStoreOptions {
  /** Most live tickets kept; the oldest go first beyond it. @default 10_000 */
  maxEntries?: number
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

const TICKET_PATTERN = /^[A-Za-z0-9_-]{32}$/

/** One-time tickets kept in this process: for tests, examples and single-process servers. */
export function memoryTicketStore(options: MemoryTicketStoreOptions = {}): TicketStore {
  const maxEntries = options.maxEntries ?? 10_000
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new SessionConfigError('core', 'maxEntries', '%s must be a positive whole number')
  }
  const now = options.now ?? Date.now
  const tickets = new Map<string, { payload: string; expiresAt: number }>()
  return {
    name: 'memory',
    async issue(payload: TicketPayload, ttlMs: number) {
      const ticket = randomToken(24) // 192 bits, 32 characters
      tickets.set(ticket, { payload: JSON.stringify(payload), expiresAt: now() + ttlMs })
      while (tickets.size > maxEntries) tickets.delete(tickets.keys().next().value!)
      return ticket
    },
    async consume(ticket: string) {
      if (typeof ticket !== 'string' || !TICKET_PATTERN.test(ticket)) return null
      const entry = tickets.get(ticket)
      // Delete before anything else: no await between lookup and delete, so exactly one caller wins.
      tickets.delete(ticket)
      if (!entry || entry.expiresAt <= now()) return null
      return JSON.parse(entry.payload) as TicketPayload
    },
  }
}
