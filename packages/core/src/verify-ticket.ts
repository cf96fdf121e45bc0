import { isPlainObject } from './codec-json.ts'
import type { TicketPayload, TicketStore } from './tickets.ts'
import { boundedCall } from './timeout.ts'

/** Options of `verifyTicket`. */
export interface VerifyTicketOptions {
  /** Milliseconds the store may take before the call fails with `SessionTimeoutError`. @default 5000 */
  timeout?: number
}

/**
 * What any store's ticket looks like: base64url, at least 22 characters (128 bits) and at most 128,
 * so junk and oversized input are refused before the store sees them.
 */
const TICKET_SHAPE = /^[A-Za-z0-9_-]{22,128}$/

/**
 * The consumer side of realtime tickets: a websocket or SSE server calls this with the ticket the
 * client presented. Returns the payload (user id, username, whatever the app added) exactly once,
 * or `null` for anything missing, malformed, forged, expired or already used. Throws only when the
 * store fails or does not answer in time (`SessionBackendError`, with `cause`).
 */
export async function verifyTicket(
  store: TicketStore,
  ticket: unknown,
  options: VerifyTicketOptions = {},
): Promise<TicketPayload | null> {
  if (typeof ticket !== 'string' || !TICKET_SHAPE.test(ticket)) return null
  const timeout = options.timeout ?? 5000
  const payload: unknown = await boundedCall(store.name, 'consume', timeout, () => store.consume(ticket))
  if (!isPlainObject(payload) || typeof payload.userId !== 'string' || typeof payload.username !== 'string') {
    return null
  }
  return payload as TicketPayload
}
