import type { SessionCodec, SessionData } from './types.ts'

/** True for `{}`-like objects: what session data must be after decoding. */
export function isPlainObject(value: unknown): value is SessionData {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * A null-prototype copy of `source`'s own keys: session data never lives in an object with a
 * prototype, so a key named `__proto__` is plain data and nothing is ever inherited.
 */
export function plainData(source?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null)
  if (source) for (const key of Object.keys(source)) out[key] = source[key]
  return out
}

/** Session data as JSON text. The default codec. */
export const jsonCodec: SessionCodec = Object.freeze({
  name: 'json',
  async encode(data: SessionData) {
    return JSON.stringify(data)
  },
  async decode(stored: string) {
    try {
      const value: unknown = JSON.parse(stored)
      return isPlainObject(value) ? value : null
    } catch {
      return null
    }
  },
})
