import { plainData, type SessionRecord } from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
import { PKG, type ResolvedOptions } from './options.ts'
import { decodeValue, encodeValue } from './values.ts'

/** Turns session data into the protocol's flat `d` and a session answer back into a record. */
export interface RecordCodec {
  /** The data as `d`; `undefined` values are left out. Throws SessionDataError for what cannot be stored. */
  encodeData(data: Record<string, unknown>): Record<string, unknown>
  /** A session answer as a record; `null` for `{}` (no session) or a value that does not decode. */
  decodeSession(json: Record<string, unknown>, id: string): SessionRecord | null
}

export function recordCodec({ encodeValues, logger, now }: ResolvedOptions): RecordCodec {
  return {
    encodeData(data) {
      const out: Record<string, unknown> = Object.create(null)
      for (const [key, value] of Object.entries(data)) {
        if (value !== undefined) out[key] = encodeValue(key, value, encodeValues)
      }
      return out
    },
    decodeSession(json, id) {
      if (typeof json.id !== 'string') return null // `{}`: unknown, expired or killed
      const data: Record<string, unknown> = plainData() // a key named `__proto__` stays data
      const d = isPlainObject(json.d) ? json.d : {}
      try {
        for (const [key, value] of Object.entries(d)) data[key] = decodeValue(value)
      } catch {
        logger.warn(
          `[sessionbridge/${PKG}] session ${id.slice(0, 6)}… holds a value that does not decode; treating it as no session`,
        )
        return null
      }
      const remaining = Number(json.ttl) - Number(json.idle)
      return { data, userId: json.id, expiresAt: now() + (Number.isFinite(remaining) ? remaining : 0) * 1000 }
    },
  }
}
