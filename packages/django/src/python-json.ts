/**
 * JSON exactly as Django's `JSONSerializer` writes and reads it: Python's
 * `json.dumps(obj, separators=(',', ':'))` (ensure_ascii, Python float repr, NaN/Infinity) and
 * `json.loads` (which also accepts NaN/Infinity and keeps big integers exact).
 */

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
}

/** Python's ensure_ascii string literal: everything outside ' '..'~' is escaped, per UTF-16 unit. */
export function pythonJsonString(text: string): string {
  let out = '"'
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue
    out += text.slice(start, i)
    const ch = text[i]!
    out += SHORT_ESCAPES[ch] ?? `\\u${c.toString(16).padStart(4, '0')}`
    start = i + 1
  }
  return `${out + text.slice(start)}"`
}

/** Python's `repr(float)` of a finite number (`1e-07`, `1e+16`, `2.0`). */
export function pythonFloatRepr(value: number): string {
  // toExponential() without digits gives the shortest round-trip digits, as Python's repr does.
  const [mantissa, exp] = value.toExponential().split('e') as [string, string]
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const decpt = Number(exp) + 1 // value = 0.<digits> * 10^decpt
  let body: string
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) body = `0.${'0'.repeat(-decpt)}${digits}`
    else if (decpt >= digits.length) body = `${digits}${'0'.repeat(decpt - digits.length)}.0`
    else body = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`
  } else {
    const e = decpt - 1
    const frac = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    body = `${frac}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
  }
  return negative ? `-${body}` : body
}

function numberLiteral(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return 'Infinity'
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity'
  // JS cannot tell 1.0 from 1: whole numbers in the exact integer range are written as Python ints;
  // beyond it a number is a float to Python too (exact big integers are `bigint`s).
  if (Number.isSafeInteger(value)) return String(value === 0 ? 0 : value)
  return pythonFloatRepr(value)
}

function write(value: unknown, seen: Set<object>): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return pythonJsonString(value)
    case 'number':
      return numberLiteral(value)
    case 'bigint':
      return value.toString()
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      break
    default:
      return undefined // undefined, functions, symbols: left out, as JSON.stringify does
  }
  const obj = value as Record<string, unknown> & { toJSON?: () => unknown }
  if (typeof obj.toJSON === 'function') return write(obj.toJSON(), seen)
  if (seen.has(obj)) throw new TypeError('circular structure cannot be serialized')
  seen.add(obj)
  try {
    if (Array.isArray(obj)) return `[${obj.map((item) => write(item, seen) ?? 'null').join(',')}]`
    const parts: string[] = []
    for (const key of Object.keys(obj)) {
      const item = write(obj[key], seen)
      if (item !== undefined) parts.push(`${pythonJsonString(key)}:${item}`)
    }
    return `{${parts.join(',')}}`
  } finally {
    seen.delete(obj)
  }
}

/** `json.dumps(value, separators=(',', ':'))` as Python writes it. Throws `TypeError` on cycles. */
export function pythonJsonDumps(value: unknown): string {
  return write(value, new Set()) ?? 'null'
}

/**
 * `json.loads(text)` as Python reads it: `NaN`, `Infinity`, `-Infinity` accepted, integers beyond
 * 2^53 kept exact as `bigint`. Throws `SyntaxError` on anything else that is not JSON.
 */
export function pythonJsonLoads(text: string): unknown {
  if (jsonParseAgrees(text)) {
    try {
      return JSON.parse(text)
    } catch {
      // NaN, Infinity or not JSON: the parser below accepts the first two and explains the rest.
    }
  }
  return parsePythonJson(text)
}

/**
 * Whether `JSON.parse` answers as Python would, wherever it answers at all: no integer can pass
 * 2^53 (no run of 16 digits; a float's long fraction is sent the slow way too), and nothing can nest
 * deeper than the parser below allows (at most 512 brackets). `JSON.parse` keeps `__proto__` as an
 * own key, as the parser below does.
 */
function jsonParseAgrees(text: string): boolean {
  let digits = 0
  let brackets = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x30 && c <= 0x39) {
      if (++digits === 16) return false
      continue
    }
    digits = 0
    if ((c === 0x5b || c === 0x7b) && ++brackets > 512) return false
  }
  return true
}

function parsePythonJson(text: string): unknown {
  let pos = 0
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${pos}`)
  }
  const skipWs = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
      pos++
    }
  }
  const literal = (word: string, result: unknown) => {
    if (!text.startsWith(word, pos)) fail('unexpected token')
    pos += word.length
    return result
  }
  const parseString = (): string => {
    pos++ // opening quote
    let out = ''
    let start = pos
    for (;;) {
      if (pos >= text.length) fail('unterminated string')
      const c = text.charCodeAt(pos)
      if (c === 0x22) break
      if (c < 0x20) fail('control character in string')
      if (c !== 0x5c) {
        pos++
        continue
      }
      out += text.slice(start, pos)
      const e = text[pos + 1]
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      }
      if (e !== undefined && simple[e] !== undefined) {
        out += simple[e]
        pos += 2
      } else if (e === 'u') {
        const hex = text.slice(pos + 2, pos + 6)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape')
        out += String.fromCharCode(Number.parseInt(hex, 16))
        pos += 6
      } else {
        fail('bad escape')
      }
      start = pos
    }
    out += text.slice(start, pos)
    pos++
    return out
  }
  const parseNumber = (): number | bigint => {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(pos, pos + 400))
    if (!match) return fail('bad number')
    pos += match[0].length
    if (match[1] === undefined && match[2] === undefined) {
      const n = Number(match[0])
      return Number.isSafeInteger(n) ? n : BigInt(match[0])
    }
    return Number(match[0])
  }
  const parseValue = (depth: number): unknown => {
    if (depth > 512) fail('nesting too deep')
    skipWs()
    const c = text[pos]
    if (c === '{') {
      pos++
      const obj: Record<string, unknown> = {}
      skipWs()
      if (text[pos] === '}') {
        pos++
        return obj
      }
      for (;;) {
        skipWs()
        if (text[pos] !== '"') fail('expected a key')
        const key = parseString()
        skipWs()
        if (text[pos] !== ':') fail('expected ":"')
        pos++
        Object.defineProperty(obj, key, {
          value: parseValue(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        })
        skipWs()
        if (text[pos] === ',') pos++
        else if (text[pos] === '}') {
          pos++
          return obj
        } else fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      pos++
      const arr: unknown[] = []
      skipWs()
      if (text[pos] === ']') {
        pos++
        return arr
      }
      for (;;) {
        arr.push(parseValue(depth + 1))
        skipWs()
        if (text[pos] === ',') pos++
        else if (text[pos] === ']') {
          pos++
          return arr
        } else fail('expected "," or "]"')
      }
    }
    if (c === '"') return parseString()
    if (c === 't') return literal('true', true)
    if (c === 'f') return literal('false', false)
    if (c === 'n') return literal('null', null)
    if (c === 'N') return literal('NaN', Number.NaN)
    if (c === 'I') return literal('Infinity', Number.POSITIVE_INFINITY)
    if (c === '-' && text.startsWith('-Infinity', pos)) return literal('-Infinity', Number.NEGATIVE_INFINITY)
    return parseNumber()
  }
  const value = parseValue(0)
  skipWs()
  if (pos !== text.length) fail('extra data')
  return value
}
