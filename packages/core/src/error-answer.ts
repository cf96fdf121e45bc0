import { SessionBackendError, SessionConflictError } from './errors.ts'

/** The HTTP answer a framework gives for a session error: status and a generic body. */
export interface SessionErrorAnswer {
  status: 409 | 503
  /** The status text: never the error's message, which names backends and addresses. */
  body: 'Conflict' | 'Service Unavailable'
}

const UNAVAILABLE: SessionErrorAnswer = Object.freeze({ status: 503, body: 'Service Unavailable' })
const CONFLICT: SessionErrorAnswer = Object.freeze({ status: 409, body: 'Conflict' })

/**
 * How a framework answers `error` when it comes from sessions: a backend failure (also one wrapped
 * as another error's `cause`) is 503, a lost update race (`SessionConflictError`) is 409; `null`
 * for anything else. The details stay on the error (and its `cause`), for the log.
 */
export function sessionErrorAnswer(error: unknown): SessionErrorAnswer | null {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    if (e instanceof SessionConflictError) return CONFLICT
    if (e instanceof SessionBackendError) return UNAVAILABLE
    e = (e as { cause?: unknown }).cause
  }
  return null
}
