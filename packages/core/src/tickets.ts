/** What a realtime ticket carries: who the user is, plus whatever the app adds. */
export interface TicketPayload {
  userId: string
  username: string
  [key: string]: unknown
}

/**
 * One-time tickets for realtime servers: `issue` returns an opaque CSPRNG token, `consume`
 * returns its payload exactly once, or `null` (unknown, expired, already used, malformed).
 * Only I/O failure throws.
 */
export interface TicketStore {
  readonly name: string
  issue(payload: TicketPayload, ttlMs: number): Promise<string>
  consume(ticket: string): Promise<TicketPayload | null>
  /**
   * Revokes every unconsumed ticket of `userId` (logout calls it). Optional: only stores that can
   * index tickets by user implement it.
   */
  revokeUser?(userId: string): Promise<void>
}

/** Default ticket lifetime: 10 seconds. */
export const DEFAULT_TICKET_TTL_MS = 10_000
