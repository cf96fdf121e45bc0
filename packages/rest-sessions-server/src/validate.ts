import { invalidFormat, invalidValue, missingParameter, ProtocolError } from './errors.ts'

/**
 * Validation with redis-sessions' rules and messages (HTTP 500, as the original answered), plus
 * 400s for input the original could not survive. Each function throws the first failure.
 */

const APP = /^[a-zA-Z0-9_-]{3,20}$/
const TOKEN = /^[a-zA-Z0-9]{64}$/
const LINE_BREAK = /[\n\r\u2028\u2029]/
const TTL_MESSAGE = 'ttl must be a positive integer >= 10'
/** The original's default session ttl, seconds. */
export const DEFAULT_TTL = 7200

/** A query value as the original saw it: repeated parameters joined like `Array#toString`. */
export function queryValue(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (Array.isArray(value)) return value.join(',')
  return String(value)
}

export function validateApp(app: string | undefined): string {
  if (!app) throw missingParameter('app')
  if (!APP.test(app)) throw invalidFormat('app')
  return app
}

export function validateToken(token: string | undefined): string {
  if (!token) throw missingParameter('token')
  if (!TOKEN.test(token)) throw invalidFormat('token')
  return token
}

/**
 * Any non-empty id without a line break. The original's `/^(.*?){1,128}$/` backtracked
 * exponentially on an id with a line break (a hang); here that is a 400.
 */
export function validateId(id: string | undefined): string {
  if (!id) throw missingParameter('id')
  if (LINE_BREAK.test(id)) throw invalidFormat('id', 400)
  return id
}

export function validateIp(ip: string | undefined): string {
  if (!ip) throw missingParameter('ip')
  if (ip.length > 39 || LINE_BREAK.test(ip)) throw invalidFormat('ip')
  return ip
}

/** `parseInt(ttl || 7200)`, at least 10; beyond 2^53 (which the original mangled) a 400. */
export function validateTtl(ttl: string | undefined): number {
  const value = Number.parseInt(ttl || String(DEFAULT_TTL), 10)
  if (Number.isNaN(value) || value < 10) throw invalidValue(TTL_MESSAGE)
  if (!Number.isSafeInteger(value)) throw invalidValue(`ttl must be at most ${Number.MAX_SAFE_INTEGER}`, 400)
  return value
}

/** `dt` is required and checked like ttl, with the original's (ttl-worded) message. */
export function validateDt(dt: string | undefined): number {
  const value = Number.parseInt(dt ?? '', 10)
  if (Number.isNaN(value) || value < 10) throw invalidValue(TTL_MESSAGE)
  if (!Number.isSafeInteger(value)) throw invalidValue(`dt must be at most ${Number.MAX_SAFE_INTEGER}`, 400)
  return value
}

/** A flat value of `d`: what the protocol can hold. */
export type FlatValue = string | number | boolean | null

/**
 * The body as `d`: an object (not an array) whose values are strings, numbers, booleans or null.
 * `required` (set) also demands at least one key. Returns the entries in body order.
 */
export function validateData(body: unknown, required: boolean): Array<[string, FlatValue]> {
  if (body === undefined || body === null) {
    if (required) throw invalidValue('d must containt at least one key.')
    return []
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidValue('d must be an object')
  const entries = Object.entries(body as Record<string, unknown>)
  if (entries.length === 0 && required) throw invalidValue('d must containt at least one key.')
  for (const [key, value] of entries) {
    const type = typeof value
    if (value !== null && type !== 'string' && type !== 'number' && type !== 'boolean') {
      throw invalidValue(
        `d.${key} has a forbidden type. Only strings, numbers, boolean and null are allowed.`,
      )
    }
  }
  return entries as Array<[string, FlatValue]>
}

export { ProtocolError }
