import { plainData } from './codec-json.ts'

// `JSON.parse` for what a load reads most: a session stored as a flat object of primitives
// (`{"count":3}`, Django's auth keys). The builtin enters V8's runtime on every call, about 2.3k
// instructions for `{"count":3}`; read here, and into the `plainData` object the session takes
// over without a copy of its own.

/**
 * `JSON.parse(text.slice(start, end))`, the same value for every text: a flat object of primitives
 * (strings without escapes, integers of up to 15 digits, `true`, `false`, `null`; no space but one
 * after `:` and `,`, as PostgreSQL and MySQL write their JSON types) is read here into a `plainData`
 * object; anything else is `JSON.parse`'s, which throws on what is not JSON. Read in place: a
 * slice's characters are read through its parent, a call each (the bounds spare the slice).
 */
export function parseJson(text: string, start = 0, end = text.length): unknown {
  return (
    flatObject(text, start, end - 1) ??
    JSON.parse(start === 0 && end === text.length ? text : text.slice(start, end))
  )
}

/**
 * The keys of the objects read last, by position: a session's keys are the same from one request to
 * the next, and a key taken from here is neither sliced out nor looked up in V8's string table again
 * (about 300 instructions a key). Short keys only: a longer slice would keep its whole text alive.
 */
const recentKeys: string[] = []
const MAX_RECENT_KEYS = 16
const MAX_RECENT_KEY_LENGTH = 12

/**
 * What `keyEnd` and `primitiveAt` found besides their answer: a second result without an array or
 * an object a call (the hot path reads two keys and two values a request).
 */
let foundKey = ''
let primitiveEnd = -1

/**
 * Where the key whose text starts at `at` (after its quote) closes, before `end` (the key in
 * `foundKey`); -1 for one with an escape. A key seen at this position before is compared whole,
 * not scanned.
 */
function keyEnd(text: string, at: number, end: number, index: number): number {
  const recent = index < MAX_RECENT_KEYS ? recentKeys[index] : undefined
  if (recent !== undefined) {
    const close = at + recent.length
    // A slice (a copy: 12 characters at most) and `===` cost less than `startsWith`, which the
    // optimizing compiler turns into a loop of two `charCodeAt` a character, about 40 instructions
    // (`{"count":0,"_sb_created":...}` parsed in a loop: 2,064 -> 1,706 a call).
    if (close < end && text.charCodeAt(close) === 0x22 && text.slice(at, close) === recent) {
      foundKey = recent
      return close
    }
  }
  const close = stringEnd(text, at, end)
  if (close < 0) return -1
  foundKey = text.slice(at, close)
  if (index < MAX_RECENT_KEYS && foundKey.length <= MAX_RECENT_KEY_LENGTH) recentKeys[index] = foundKey
  return close
}

/** The object `text[start, end]` writes (`end`: its closing brace), when `parseJson` reads it itself. */
function flatObject(text: string, start: number, end: number): Record<string, unknown> | undefined {
  if (end <= start || text.charCodeAt(start) !== 0x7b || text.charCodeAt(end) !== 0x7d) return undefined
  const data = plainData()
  if (end === start + 1) return data
  let at = start + 1
  for (let index = 0; ; index++) {
    if (text.charCodeAt(at) !== 0x22) return undefined
    const close = keyEnd(text, at + 1, end, index)
    if (close < 0 || text.charCodeAt(close + 1) !== 0x3a) return undefined
    const key = foundKey
    at = close + 2
    if (text.charCodeAt(at) === 0x20) at++
    const value = primitiveAt(text, at, end)
    const valueEnd = primitiveEnd
    if (valueEnd < 0) return undefined
    // `data` inherits nothing: a key named `__proto__` is a key, as JSON.parse makes it.
    data[key] = value
    if (valueEnd === end) return data
    if (text.charCodeAt(valueEnd) !== 0x2c) return undefined
    at = valueEnd + 1
    if (text.charCodeAt(at) === 0x20) at++
  }
}

/** Where the string from `from` (after its opening quote) closes before `end`; -1 for an escape or a control character. */
function stringEnd(text: string, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) return i
    if (c === 0x5c || c < 0x20) return -1
  }
  return -1
}

/**
 * The primitive at `at` (before `end`, the closing brace), where it ends in `primitiveEnd`: -1 for
 * one read by JSON.parse. An integer's digits are read once, its value counted as they go.
 */
function primitiveAt(text: string, at: number, end: number): unknown {
  const c = text.charCodeAt(at)
  if (c === 0x22) {
    const close = stringEnd(text, at + 1, end)
    primitiveEnd = close < 0 ? -1 : close + 1
    return close < 0 ? undefined : text.slice(at + 1, close)
  }
  if (c === 0x74) return literal(text, at, 'true', true)
  if (c === 0x66) return literal(text, at, 'false', false)
  if (c === 0x6e) return literal(text, at, 'null', null)
  // An integer: JSON's digits (no leading zero but `0` itself), no fraction, no exponent.
  const first = c === 0x2d ? at + 1 : at
  let i = first
  let n = 0
  while (i < end) {
    const digit = text.charCodeAt(i) - 0x30
    if (digit < 0 || digit > 9) break
    n = n * 10 + digit
    i++
  }
  const digits = i - first
  primitiveEnd = digits === 0 || digits > 15 || (digits > 1 && text.charCodeAt(first) === 0x30) ? -1 : i
  return c === 0x2d ? -n : n
}

/** `true`, `false` or `null` when `text` writes `word` at `at`. */
function literal(text: string, at: number, word: string, value: boolean | null): boolean | null {
  primitiveEnd = text.startsWith(word, at) ? at + word.length : -1
  return value
}
