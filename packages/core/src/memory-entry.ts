import { isPlainObject, plainData } from './codec-json.ts'

/** One stored session of the memory backend: JSON text, so callers never share objects with it. */
export interface MemoryEntry {
  json: string
  expiresAt: number
  userId: string | null
  /**
   * Changes with every write of the data; handed out as the record's `version`, so a save that
   * finds it unchanged writes the session's data whole instead of parsing and merging. Entries
   * seeded without one always merge; change or drop it when you edit `json` in place.
   */
  version?: string
}

/**
 * A copy of `data` when that copy equals its JSON round trip, else `null`: every value a string, a
 * boolean, `null` or a finite number other than `-0` (JSON turns `-0` into `0` and `NaN` into
 * `null`). One pass: the check and the copy walk the keys together.
 */
function flatCopy(data: Record<string, unknown>): Record<string, unknown> | null {
  const copy = plainData()
  for (const key of Object.keys(data)) {
    const value = data[key]
    const type = typeof value
    if (type !== 'string' && type !== 'boolean' && value !== null) {
      if (type !== 'number' || !Number.isFinite(value) || Object.is(value, -0)) return null
    }
    copy[key] = value
  }
  return copy
}

/**
 * An entry the backend writes. Data made only of flat values (most sessions: ids, counters, flags)
 * is kept as a private copy and handed out as copies, with the same result as JSON text and its
 * parse but without either: `json` is written on first read. Anything else is JSON text at once.
 * Assigning `json` (a test corrupting an entry) drops the copy, so the text is the truth again.
 */
export class StoredEntry implements MemoryEntry {
  #json: string | undefined
  #flat: Record<string, unknown> | undefined
  expiresAt: number
  userId: string | null
  version?: string
  /** The backend's move count when it last moved this entry to the map's end (`memory.ts`). */
  movedAt = 0

  constructor(data: Record<string, unknown>, expiresAt: number, userId: string | null, version: string) {
    const flat = flatCopy(data)
    if (flat) this.#flat = flat
    else this.#json = JSON.stringify(data)
    this.expiresAt = expiresAt
    this.userId = userId
    this.version = version
  }

  get json(): string {
    this.#json ??= JSON.stringify(this.#flat)
    return this.#json
  }

  set json(text: string) {
    this.#json = text
    this.#flat = undefined
  }

  /** A fresh copy of the data, or `null` when the text does not decode. */
  data(): Record<string, unknown> | null {
    return this.#flat ? plainData(this.#flat) : decodeEntry(this.json)
  }
}

/**
 * The data of stored JSON text, or `null` when it does not decode. A fresh object of JSON.parse's:
 * it keeps a `__proto__` key as an own data property.
 */
export function decodeEntry(json: string): Record<string, unknown> | null {
  let data: unknown
  try {
    data = JSON.parse(json)
  } catch {
    data = null
  }
  if (isPlainObject(data)) return data
  console.warn(`[sessionbridge/memory] session data does not decode; treating it as no session`)
  return null
}
