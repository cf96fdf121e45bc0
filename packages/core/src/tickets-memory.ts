import { SessionConfigError } from './errors.ts'
import { randomToken } from './ids.ts'
import { MapCapacity } from './map-capacity.ts'
import type { TicketPayload, TicketStore } from './tickets.ts'

/** Options of `memoryTicketStore`. */
export interface MemoryTicketStoreOptions {
  /** Most live tickets kept; the oldest go first beyond it. @default 10_000 */
  maxEntries?: number
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

const TICKET_PATTERN = /^[A-Za-z0-9_-]{32}$/

type Entry = { payload: string; userId: string; expiresAt: number }

/** One-time tickets kept in this process: for tests, examples and single-process servers. */
export function memoryTicketStore(options: MemoryTicketStoreOptions = {}): TicketStore {
  const maxEntries = options.maxEntries ?? 10_000
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new SessionConfigError('core', 'maxEntries', '%s must be a positive whole number')
  }
  const now = options.now ?? Date.now
  const tickets = new Map<string, Entry>()
  // Tickets by user, so logout can revoke them.
  const byUser = new Map<string, Set<string>>()
  const unindex = (ticket: string, entry: Entry) => {
    const own = byUser.get(entry.userId)
    own?.delete(ticket)
    if (own?.size === 0) byUser.delete(entry.userId)
  }
  const forget = (ticket: string, entry: Entry) => {
    tickets.delete(ticket)
    unindex(ticket, entry)
  }
  // Beyond maxEntries, expired tickets go first, then the oldest.
  const capacity = new MapCapacity(tickets, {
    max: maxEntries,
    expired: (entry: Entry, t: number) => entry.expiresAt <= t,
    now,
    dropped: unindex,
  })
  return {
    name: 'memory',
    async issue(payload: TicketPayload, ttlMs: number) {
      const ticket = randomToken(24) // 192 bits, 32 characters
      const userId = String(payload.userId)
      tickets.set(ticket, { payload: JSON.stringify(payload), userId, expiresAt: now() + ttlMs })
      byUser.get(userId)?.add(ticket) ?? byUser.set(userId, new Set([ticket]))
      capacity.enforce()
      return ticket
    },
    async consume(ticket: string) {
      if (typeof ticket !== 'string' || !TICKET_PATTERN.test(ticket)) return null
      const entry = tickets.get(ticket)
      if (!entry) return null
      // Forget before anything else: no await between lookup and delete, so exactly one caller wins.
      forget(ticket, entry)
      if (entry.expiresAt <= now()) return null
      return JSON.parse(entry.payload) as TicketPayload
    },
    async revokeUser(userId: string) {
      for (const ticket of byUser.get(String(userId)) ?? []) tickets.delete(ticket)
      byUser.delete(String(userId))
    },
  }
}
