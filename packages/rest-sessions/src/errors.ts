import { SessionBackendError, SessionDataError } from '@sessionbridge/core'

/**
 * `create()` was asked to store a session with no user. rest-sessions keeps sessions per user id,
 * so an anonymous visitor has no server session until login (or set the `anonymousId` option).
 */
export class RestSessionsAnonymousError extends SessionDataError {
  override name = 'RestSessionsAnonymousError'
  constructor() {
    super(
      'rest-sessions',
      'cannot create a session without a user id: rest-sessions stores sessions per user. Write to the session only once the user is logged in (set the user id key in the same request), keep anonymous state elsewhere, or set the "anonymousId" option',
    )
  }
}

/** The server answered with a status the protocol does not expect; carries the status and body. */
export class RestSessionsHttpError extends SessionBackendError {
  override name = 'RestSessionsHttpError'
  /** The HTTP status the server answered (the error's own `status` stays 503 for frameworks). */
  readonly responseStatus: number
  /** The start of the body the server answered. */
  readonly responseBody: string
  constructor(operation: string, responseStatus: number, responseBody: string) {
    super('rest-sessions', operation, `server answered ${responseStatus}: ${responseBody}`, {
      cause: { status: responseStatus, body: responseBody },
    })
    this.responseStatus = responseStatus
    this.responseBody = responseBody
  }
}
