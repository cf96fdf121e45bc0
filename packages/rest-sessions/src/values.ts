import { SessionDataError } from '@sessionbridge/core'

/**
 * The protocol stores flat values only (string, number, boolean; `null` means "delete"). Anything
 * else is stored as a string: this marker, then the value's JSON. Strings that happen to start with
 * the marker are encoded the same way, so decoding is exact. Other clients of the service see the
 * marked string.
 */
export const JSON_MARKER = '\u0000sbjson:'

const PKG = 'rest-sessions'

/** One value as the protocol will store it. `encode: false` refuses what would need the marker. */
export function encodeValue(key: string, value: unknown, encode: boolean): string | number | boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && !value.startsWith(JSON_MARKER)) return value
  if (
    typeof value === 'bigint' ||
    typeof value === 'function' ||
    typeof value === 'symbol' ||
    value === undefined
  ) {
    throw new SessionDataError(PKG, `session key "${key}" holds a ${typeof value}, which has no JSON form`)
  }
  if (!encode) {
    throw new SessionDataError(
      PKG,
      `session key "${key}" holds ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}; rest-sessions stores only strings, numbers and booleans (enable encodeValues to store it as JSON text)`,
    )
  }
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new SessionDataError(PKG, `session key "${key}" cannot be encoded as JSON`, { cause: error })
  }
  return `${JSON_MARKER}${json ?? 'null'}`
}

/** A stored value back to what was saved; throws SyntaxError for a marked value that is not JSON. */
export function decodeValue(value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(JSON_MARKER))
    return JSON.parse(value.slice(JSON_MARKER.length))
  return value
}
