import { jsonCodec, plainData, SessionBackendError, type SessionRecord } from '@sessionbridge/core'
import { isPlainDataObject, parseJson } from '@sessionbridge/core/adapter'
import { errorMessage } from './commands.ts'
import type { hashCodec } from './hash.ts'
import { PKG, type RedisContext } from './io.ts'
import { luaScript } from './scripts.ts'

/**
 * The most bytes of data values LOAD joins. A larger session is answered whole: checking its values
 * would cost Redis (one thread for every client) more than the client saves, a share of a reply
 * that large.
 */
const JOINED_BYTES = 16_384

/**
 * KEYS[1] session. `load()`'s read as one text, `<expiry>,["<uid marker>",{<data>}]`: the data
 * fields' one-key objects joined into one. The client then decodes one reply, where an `HGETALL`
 * reply is two per field (the bench: about 8k instructions of node-redis's decoder for a two-key
 * session, more than the rest of a read). Only a hash as this backend writes it is joined: each
 * data field `{"<key>":<value>}` (the key needing no escapes in JSON, one key: cjson checks any
 * value but an integer), the expiry in digits, at most JOINED_BYTES of values; any other hash is
 * answered as `HGETALL` would, and the reader walks it, warning as before. False when the key is
 * missing, 0 when it is not a hash.
 */
export const LOAD = luaScript(`
local all = redis.pcall('HGETALL', KEYS[1])
if type(all) ~= 'table' or all.err then return 0 end
if #all == 0 then return false end
local exp, uid, parts, size = nil, nil, {}, 0
for i = 1, #all, 2 do
  local f, v = all[i], all[i + 1]
  if f == 'm:exp' then exp = v
  elseif f == 'm:uid' then uid = v
  elseif string.sub(f, 1, 2) == 'd:' then
    size = size + #v
    if size > ${JOINED_BYTES} then return all end
    local key = string.sub(f, 3)
    local head = #key + 4
    if string.find(key, '[%z\\1-\\31"\\\\]') or #v <= head + 1 or string.sub(v, -1) ~= '}'
      or string.sub(v, 1, head) ~= '{"' .. key .. '":' then return all end
    if not string.find(v, '^%-?%d+}$', head + 1) then
      local ok, t = pcall(cjson.decode, v)
      if not ok or type(t) ~= 'table' or next(t, next(t)) ~= nil then return all end
    end
    parts[#parts + 1] = string.sub(v, 2, -2)
  end
end
if not exp or not uid or not string.find(exp, '^%d+$') then return all end
return exp .. ',[' .. cjson.encode(uid) .. ',{' .. table.concat(parts, ',') .. '}]'
`)

/** An object JSON.parse made from `{...}`: anything but an array or a primitive. */
const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The expiry ahead of LOAD's JSON, and where the JSON starts; `undefined` without digits and a comma.
 * Read here: JSON.parse takes a number of more than 9 digits through `strtod` (about 400 instructions).
 */
function expiryPrefix(text: string): { expiresAt: number; json: number } | undefined {
  let expiresAt = 0
  let at = 0
  for (; at < 17; at++) {
    const digit = text.charCodeAt(at) - 48
    if (!(digit >= 0 && digit <= 9)) break
    expiresAt = expiresAt * 10 + digit
  }
  if (at === 0 || text.charCodeAt(at) !== 44 || !Number.isSafeInteger(expiresAt)) return undefined
  return { expiresAt, json: at + 1 }
}

/** The record of LOAD's joined text; `undefined` when it is not one (then the hash is read whole). */
function joinedRecord(text: string, now: number): SessionRecord | null | undefined {
  const prefix = expiryPrefix(text)
  if (prefix === undefined) return undefined
  const parts = joinedParts(text, prefix.json)
  if (parts === undefined) return undefined
  const { marker, data } = parts
  if (typeof marker !== 'string' || (marker !== '-' && !marker.startsWith('+'))) return undefined
  const { expiresAt } = prefix
  if (expiresAt <= now) return null
  // parseJson's own objects are plainData's; JSON.parse's are copied (a `__proto__` key stays a key).
  return {
    data: isPlainDataObject(data) ? data : plainData(data),
    expiresAt,
    userId: marker === '-' ? null : marker.slice(1),
  }
}

/**
 * The uid marker and data of LOAD's `["<marker>",{<data>}]` from `at`, or `undefined`. A marker
 * without escapes (cjson writes `/` as `\/`) is read apart, and the data alone by `parseJson`: one
 * JSON.parse of the pair and a copy of its object cost about 2k instructions more a load.
 */
function joinedParts(
  text: string,
  at: number,
): { marker: unknown; data: Record<string, unknown> } | undefined {
  const last = text.length - 1
  if (text.charCodeAt(at) === 0x5b && text.charCodeAt(at + 1) === 0x22 && text.charCodeAt(last) === 0x5d) {
    let close = at + 2
    for (; close < last; close++) {
      const c = text.charCodeAt(close)
      if (c === 0x22 || c === 0x5c) break
    }
    if (text.charCodeAt(close) === 0x22 && text.charCodeAt(close + 1) === 0x2c) {
      try {
        const data = parseJson(text, close + 2, last)
        return isJsonObject(data) ? { marker: text.slice(at + 2, close), data } : undefined
      } catch {
        return undefined
      }
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text.slice(at))
  } catch {
    return undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined
  const [marker, data] = parsed as unknown[]
  return isJsonObject(data) ? { marker, data } : undefined
}

/**
 * `load()` for Redis: one script (LOAD) with the default codec, whose joined answer is parsed once;
 * `HGETALL` with another codec (Lua cannot check its values), or when the hash is not as this
 * backend writes it, walked field by field (hash.ts). One round trip, two for an odd hash.
 */
export function redisLoad(ctx: RedisContext, hash: ReturnType<typeof hashCodec>) {
  const { sessionKey, sendScript, scriptFailed, commands, logger, now } = ctx
  const joined = ctx.codec === jsonCodec
  const notAHash = (id: string): null => {
    logger.warn(`[sessionbridge/redis] session ${id.slice(0, 6)}... is not a hash; treating it as no session`)
    return null
  }
  const readWhole = async (id: string, key: string) => {
    let flat: unknown
    try {
      flat = await commands.send(key, ['HGETALL', key])
    } catch (error) {
      // A key of another type is malformed data, not an outage.
      if (errorMessage(error).startsWith('WRONGTYPE')) return notAHash(id)
      throw new SessionBackendError(PKG, 'load', errorMessage(error), { cause: error })
    }
    return walk(id, flat)
  }
  const walk = async (id: string, flat: unknown): Promise<SessionRecord | null> => {
    const pending = hash.decodeHash(id, flat, false)
    const decoded = pending instanceof Promise ? await pending : pending
    return decoded && { data: decoded.data, expiresAt: decoded.expiresAt, userId: decoded.userId }
  }
  /** The record of LOAD's reply: the joined text parsed, or the hash read (or walked) whole. */
  const answered = (id: string, key: string, reply: unknown) => {
    if (typeof reply === 'string') {
      const record = joinedRecord(reply, now())
      return record !== undefined ? record : readWhole(id, key)
    }
    if (reply === 0) return notAHash(id)
    return Array.isArray(reply) ? walk(id, reply) : null
  }
  // The reply taken in the script's own reaction: an `async` function awaiting it inside a `try`
  // cost its frame, an await and a promise of its own (about 400 instructions of Hono's read).
  return (id: string): Promise<SessionRecord | null> => {
    const key = sessionKey(id)
    if (!joined) return readWhole(id, key)
    let sent: Promise<unknown>
    try {
      sent = sendScript(LOAD, key, [])
    } catch (error) {
      sent = Promise.reject(error)
    }
    return sent.then(
      (reply) => answered(id, key, reply),
      (error: unknown) =>
        scriptFailed('load', LOAD, key, [], error).then((reply) => answered(id, key, reply)),
    )
  }
}
