import type { SessionCodec, SessionData } from './types.ts'

/**
 * The class of `plainData`'s objects. Its prototype is an empty object with a null prototype: nothing
 * is inherited and `__proto__` is a plain key, as with `Object.create(null)`, but V8 keeps such
 * objects in fast mode (a null-prototype object is a hash table): reading, copying and
 * `JSON.stringify` of session data cost less on every request.
 */
function PlainData() {}
PlainData.prototype = Object.create(null) as object
const PLAIN_DATA_PROTOTYPE = PlainData.prototype as object
const PlainDataObject = PlainData as unknown as new () => Record<string, unknown>

/** True for `{}`-like objects: what session data must be after decoding (`plainData`'s included). */
export function isPlainObject(value: unknown): value is SessionData {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null || proto === PLAIN_DATA_PROTOTYPE
}

/**
 * A copy of `source`'s own keys in an object that inherits nothing: session data never lives in an
 * object with a prototype chain to `Object.prototype`, so a key named `__proto__` is plain data.
 */
export function plainData(source?: Record<string, unknown>): Record<string, unknown> {
  // Object.assign copies own enumerable keys, as the loop it replaces did, and a fast source's
  // properties without a megamorphic keyed store per key.
  return source ? Object.assign(new PlainDataObject(), source) : new PlainDataObject()
}

/**
 * Whether `value` was made by `plainData()`: a backend's record data handed over to the session,
 * which takes it as its own instead of copying it (see `SessionBackend.load`).
 */
export function isPlainDataObject(value: unknown): value is Record<string, unknown> {
  // `instanceof` is a check of the object's map in optimized code; `Object.getPrototypeOf` of an
  // object that inherits nothing went through a runtime call (about 200 instructions a load).
  return value instanceof PlainDataObject
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
