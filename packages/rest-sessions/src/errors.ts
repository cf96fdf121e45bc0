import { SessionBackendError, SessionDataError, SessionError } from '@sessionbridge/core'

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

/**
 * The server lacks an extension this call needs: the original rest-sessions server has no atomic
 * same-key update. Run `@sessionbridge/rest-sessions-server` for it; nothing was written.
 */
export class RestSessionsUnsupportedError extends SessionError {
  override name = 'RestSessionsUnsupportedError'
  readonly status = 500
  readonly statusCode = 500
  /** The extension the server did not advertise, e.g. `update`. */
  readonly extension: string
  constructor(extension: string, url: string) {
    super(
      `[sessionbridge/rest-sessions] the server at ${url} does not offer "${extension}" (the original rest-sessions server cannot): run @sessionbridge/rest-sessions-server, which advertises it`,
    )
    this.extension = extension
  }
}
