import { SessionBackendError, SessionTimeoutError } from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
import { RestSessionsHttpError } from './errors.ts'
import { PKG, type ResolvedOptions } from './options.ts'

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'

/** A 2xx JSON object, or `found: false` for a token the server refused as malformed. */
export type Answer =
  | { found: true; json: Record<string, unknown> }
  | { found: false; json: Record<string, unknown> }

/** One request to the server: `path` is relative to the base URL. Throws typed errors only. */
export type Call = (operation: string, method: Method, path: string, body?: unknown) => Promise<Answer>

const BODY_EXCERPT = 500

// A malformed token answers invalidFormat (500 on the original, 400 on ours): that is "no session".
const isInvalidToken = (status: number, body: unknown) =>
  (status === 500 || status === 400) &&
  isPlainObject(body) &&
  body.name === 'invalidFormat' &&
  body.message === 'Invalid token format'

export function excerpt(text: string): string {
  return text.length > BODY_EXCERPT ? `${text.slice(0, BODY_EXCERPT)}…` : text
}

/** undici and fetch hide the socket error in `cause`; name it in the message. */
function errorText(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause : null
  const code = cause && 'code' in cause ? ` (${String(cause.code)})` : ''
  return cause ? `${error.message}: ${cause.message}${code}` : error.message
}

/** What a failed exchange throws: a timeout when the deadline ended it, else the cause, typed. */
function exchangeError(operation: string, error: unknown, timedOut: boolean, timeout: number): Error {
  if (timedOut) return new SessionTimeoutError(PKG, operation, timeout)
  const message = error instanceof Error ? errorText(error) : String(error)
  return new SessionBackendError(PKG, operation, message, { cause: error })
}

/**
 * The backend's HTTP caller: one deadline per call, answers parsed, failures typed. The deadline is
 * the transport's own when it `keepsTimeout` (it rejects with a `TimeoutError`), else an
 * `AbortSignal` per call.
 */
export function createCall({ base, transport, timeout }: ResolvedOptions): Call {
  const keepsTimeout = transport.keepsTimeout === true
  const exchange = async (operation: string, method: Method, url: string, body?: unknown) => {
    const controller = keepsTimeout ? null : new AbortController()
    const timer = controller && setTimeout(() => controller.abort(), timeout)
    try {
      return await transport.request({
        method,
        url,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller?.signal,
        timeout,
      })
    } catch (error) {
      const timedOut = controller
        ? controller.signal.aborted
        : error instanceof Error && error.name === 'TimeoutError'
      throw exchangeError(operation, error, timedOut, timeout)
    } finally {
      if (timer) clearTimeout(timer)
    }
  }

  return async (operation, method, path, body) => {
    const response = await exchange(operation, method, `${base}${path}`, body)
    const ok = response.status >= 200 && response.status < 300
    let json: unknown
    try {
      json = JSON.parse(response.body)
    } catch (error) {
      if (ok) {
        const message = `invalid JSON from the server (status ${response.status}): ${excerpt(response.body)}`
        throw new SessionBackendError(PKG, operation, message, { cause: error })
      }
    }
    if (isInvalidToken(response.status, json)) return { found: false, json: {} }
    if (!ok) throw new RestSessionsHttpError(operation, response.status, excerpt(response.body))
    if (!isPlainObject(json))
      throw new SessionBackendError(PKG, operation, `unexpected answer: ${excerpt(response.body)}`)
    return { found: true, json }
  }
}
