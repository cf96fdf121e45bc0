/**
 * An answer of the protocol that is not a 200: the original's 500 `{name, message}` bodies for
 * validation failures (kept for compatibility), and the 400/503 answers this server adds.
 */
export class ProtocolError extends Error {
  override name: string
  readonly statusCode: number
  /** A redis-sessions validation failure: 500 in strict mode (as the original), 400 otherwise. */
  readonly validation: boolean

  constructor(statusCode: number, name: string, message: string, validation = false) {
    super(message)
    this.name = name
    this.statusCode = statusCode
    this.validation = validation
  }

  /** The JSON body, in the original's field order. */
  toJSON(): { name: string; message: string } {
    return { name: this.name, message: this.message }
  }
}

/** Redis cannot be reached (down, restarting, too slow): 503 until it is back. */
export class RedisUnavailableError extends ProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'redisUnavailable', message)
    if (options?.cause !== undefined) this.cause = options.cause
  }
}

/** redis-sessions' error templates, with the original's wording (typos included). */
export const missingParameter = (item: string) =>
  new ProtocolError(500, 'missingParameter', `No ${item} supplied`, true)
export const invalidFormat = (item: string, status = 500) =>
  new ProtocolError(status, 'invalidFormat', `Invalid ${item} format`, status === 500)
export const invalidValue = (message: string, status = 500) =>
  new ProtocolError(status, 'invalidValue', message, status === 500)
