import { isPlainDataObject } from './codec-json.ts'

// `JSON.stringify` for the values a save writes most: a flat object of primitives (`{ count: 3 }`,
// Django's auth keys) or a primitive alone. The builtin enters V8's runtime and sets up its string
// builder on every call, about 2k instructions for `{ count: 3 }` (0.8k written here) and 0.7k for
// `3` (0.1k): a cost per key or per session on every write of every backend.

/** Longest string value written here; a longer one goes to `JSON.stringify`, which copies faster. */
const MAX_PLAIN_STRING = 128

/** Whether JSON writes `text` as is between quotes: no control character, quote, backslash or surrogate. */
export function plainJsonString(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false
  }
  return true
}

/** The JSON of a primitive written here, or `undefined` for anything `JSON.stringify` must write. */
function primitiveText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return value.length <= MAX_PLAIN_STRING && plainJsonString(value) ? `"${value}"` : undefined
    case 'object':
      return value === null ? 'null' : undefined
    default:
      return undefined
  }
}

/**
 * The keys written last, by position, each checked by `plainJsonString` then: a session's keys are
 * the same from one save to the next, and a `for-in` key is V8's own property name, so the check
 * becomes one comparison of two references (`{ count, _sb_created }` in a loop: 1,887 -> 1,368
 * instructions a call). Short keys only, so a long one is not kept alive here.
 */
const plainKeys: string[] = []
const MAX_PLAIN_KEYS = 16
const MAX_PLAIN_KEY_LENGTH = 64

/** `plainJsonString(key)`, remembered for the key's position when true. */
function plainKeyAt(key: string, index: number): boolean {
  if (!plainJsonString(key)) return false
  if (index < MAX_PLAIN_KEYS && key.length <= MAX_PLAIN_KEY_LENGTH) plainKeys[index] = key
  return true
}

/**
 * `JSON.stringify(value)`, the same text for every value: a primitive, or an object whose own keys
 * all hold primitives (no prototype but `Object.prototype` or none, no `toJSON`), is written here;
 * anything else (nested objects, arrays, `undefined` values, long or escaped strings, odd keys) is
 * handed to `JSON.stringify` whole.
 */
export function jsonText(value: Record<string, unknown>): string
export function jsonText(value: unknown): string | undefined
export function jsonText(value: unknown): string | undefined {
  const primitive = primitiveText(value)
  if (primitive !== undefined) return primitive
  if (typeof value !== 'object' || value === null) return JSON.stringify(value)
  const object = value as Record<string, unknown>
  // Only `{}`-like objects: plainData's inherit nothing, `{}` may inherit a polluted key (checked
  // below); arrays, classes and a toJSON anywhere are JSON.stringify's.
  let inherits = false
  if (!isPlainDataObject(object)) {
    const proto: unknown = Object.getPrototypeOf(object)
    if (proto === Object.prototype) inherits = true
    else if (proto !== null) return JSON.stringify(value)
  }
  if (typeof object.toJSON === 'function') return JSON.stringify(value)
  let text = ''
  let index = 0
  // for-in visits own keys in JSON.stringify's order (integer keys ascending, then as inserted).
  for (const key in object) {
    // An inherited enumerable key (a polluted Object.prototype) is not JSON's: let it decide.
    if (inherits && !Object.hasOwn(object, key)) return JSON.stringify(value)
    const item = primitiveText(object[key])
    if (item === undefined || (plainKeys[index] !== key && !plainKeyAt(key, index)))
      return JSON.stringify(value)
    text += `${text === '' ? '{"' : ',"'}${key}":${item}`
    index++
  }
  return text === '' ? '{}' : `${text}}`
}
