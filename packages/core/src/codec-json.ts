import type { SessionCodec, SessionData } from './types.ts'

/** True for `{}`-like objects: what session data must be after decoding. */
export function isPlainObject(value: unknown): value is SessionData {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
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
