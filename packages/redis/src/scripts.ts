import { createHash } from 'node:crypto'
import { errorMessage, type RedisCommands } from './commands.ts'

/** A Lua script run against exactly one key, by SHA1 first and by source when Redis lacks it. */
export interface LuaScript {
  readonly source: string
  readonly sha: string
  /** The command that runs it on `key`: by SHA1, or by its source (`bySource`, after `NOSCRIPT`). */
  command(key: string, args: readonly string[], bySource?: boolean): string[]
  /**
   * The command by SHA1 with its first argument, in an array the caller appends the others to:
   * `command` copies an argument list into a new array, which grows at its first push.
   */
  commandWith(key: string, first: string): string[]
  run(commands: RedisCommands, key: string, args: readonly string[]): Promise<unknown>
}

/** Where a script's own arguments start in its command (`EVALSHA <sha> 1 <key>`, then them). */
export const SCRIPT_ARGS_AT = 4

/** A reply that says Redis does not hold the script (restart, failover): run it by source. */
export const isNoScript = (error: unknown): boolean => errorMessage(error).startsWith('NOSCRIPT')

/** Prepares a script. EVALSHA saves resending the source; `NOSCRIPT` (restart, failover) falls back to EVAL, which caches it again. */
export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex')
  const command = (key: string, args: readonly string[], bySource = false) => {
    // A loop: a spread runs the iterator protocol, `concat` a runtime call (170 / 550 instructions).
    const sent = bySource ? ['EVAL', source, '1', key] : ['EVALSHA', sha, '1', key]
    for (let i = 0; i < args.length; i++) sent.push(args[i]!)
    return sent
  }
  return {
    source,
    sha,
    command,
    commandWith: (key, first) => ['EVALSHA', sha, '1', key, first],
    run(commands, key, args) {
      return commands.send(key, command(key, args)).catch((error: unknown) => {
        if (!isNoScript(error)) throw error
        return commands.send(key, command(key, args, true))
      })
    },
  }
}

// Session hash layout: see hash.ts.

// Lua: one HSET (or HDEL) per 1000 arguments, 500 field/value pairs: Lua's unpack has a limit.
const IN_CHUNKS = `
local function in_chunks(command, key, list)
  for i = 1, #list, 1000 do
    redis.call(command, key, unpack(list, i, math.min(i + 999, #list)))
  end
end
`

/** KEYS[1] session; ARGV: expiresAt, uid marker, index score or '', then field/value pairs. 1 = created, 0 = id taken. */
export const CREATE = luaScript(`${IN_CHUNKS}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local set = { 'm:exp', ARGV[1], 'm:uid', ARGV[2] }
if ARGV[3] ~= '' then
  set[#set + 1] = 'm:idx'
  set[#set + 1] = ARGV[3]
end
for i = 4, #ARGV do set[#set + 1] = ARGV[i] end
in_chunks('HSET', KEYS[1], set)
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`)

// Lua that reads the whole session hash in one command (HGETALL), as a field map plus the flat
// reply. It answers `false` (the session counts as gone) when the key is missing or not a hash, or,
// with `check` (the default JSON codec; Lua cannot run another), when a data field does not decode
// as a one-key JSON object: save and update never overwrite a record load() calls undecodable.
const READ_HASH = `
local function read_hash(key, check)
  local all = redis.pcall('HGETALL', key)
  if type(all) ~= 'table' or all.err or #all == 0 then return false end
  local fields = {}
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    if check and string.sub(f, 1, 2) == 'd:' then
      local ok, t = pcall(cjson.decode, v)
      if not ok or type(t) ~= 'table' or string.sub(v, 1, 1) ~= '{' then return false end
    end
    fields[f] = v
  end
  return fields, all
end
${IN_CHUNKS}`

/**
 * KEYS[1] session; ARGV[1]: a header "<expiresAt> <check-JSON flag 1/0> <named> <pairs> <uid
 * marker>", a newline, and the first of the `named` values (or nothing); then the other named values
 * (`{"<key>":...}`, the key without escapes: the field is `d:<key>`), `pairs` field/value pairs, then
 * fields to delete. The first value rides in the header's argument because each argument costs
 * node-redis about 700 instructions to encode; JSON text holds no newline, so the last one ends the
 * header (whose uid marker may hold any). Nil when the session is gone (never resurrected) or does
 * not decode; 1 when it stays anonymous (nothing for the index); else "<index score or nothing>
 * <previous uid marker>" (one text: the client decodes one reply). A change of user forgets the index
 * score. Redis runs 3 commands for a save that deletes nothing (HGETALL, HSET, PEXPIREAT), 4
 * otherwise.
 */
export const SAVE = luaScript(`${READ_HASH}
local header, first = string.match(ARGV[1], '^(.*)\\n([^\\n]*)$')
local exp, check, named, pairs, uid
if header then exp, check, named, pairs, uid = string.match(header, '^(%d+) ([01]) (%d+) (%d+) (.*)$') end
if not exp then return redis.error_reply('ERR sessionbridge save: malformed header') end
local fields = read_hash(KEYS[1], check == '1')
if not fields then return false end
local previous = fields['m:uid'] or '-'
local indexed = fields['m:idx'] or ''
local set = { 'm:exp', exp, 'm:uid', uid }
local i = 2
for n = 1, tonumber(named) do
  local value = first
  if n > 1 then
    value = ARGV[i]
    i = i + 1
  end
  set[#set + 1] = 'd:' .. string.match(value, '^{"([^"\\\\]*)":')
  set[#set + 1] = value
end
for _ = 1, 2 * tonumber(pairs) do
  set[#set + 1] = ARGV[i]
  i = i + 1
end
local gone = {}
for j = i, #ARGV do gone[#gone + 1] = ARGV[j] end
if previous ~= uid and indexed ~= '' then
  gone[#gone + 1] = 'm:idx'
  indexed = ''
end
in_chunks('HSET', KEYS[1], set)
if #gone > 0 then in_chunks('HDEL', KEYS[1], gone) end
redis.call('PEXPIREAT', KEYS[1], exp)
if uid == '-' and previous == '-' then return 1 end
return indexed .. ' ' .. previous
`)

/** How long a writer that lost a compare-and-set holds the turn of its field (ms). */
export const TURN_MS = 200
/** How long a place in line lasts without the waiter asking again (it asks every few ms). */
const LINE_MS = 2 * TURN_MS

/**
 * KEYS[1] session; ARGV: data field, expected stored value, new value (ARGV 2 and 3: '' = absent,
 * else the value prefixed with '='), expiresAt, check-JSON flag, the caller's turn token ('' = take
 * no turn: its last try), '1' when the caller was told to wait before. The compare-and-set of one
 * field behind `update()`: writes only when the field still holds what the caller read. Nil when
 * the session is gone; else { 1 = written, the hash after } or { 0 = changed meanwhile, the hash
 * now } or { 2 = another writer's turn, ms it has left, the caller's place in line or 0 }.
 *
 * Turns keep a writer from losing forever to the others (each failure is another's success, but
 * one writer can keep being that other): a writer whose compare fails takes the field's turn
 * (`m:turn` = "token until field", by Redis's clock) unless someone holds it; while it is held,
 * other writers of that field wait instead of writing. The holder retries at once from the hash
 * this answer carries, so its next try wins; its write (or TURN_MS) ends the turn.
 *
 * A writer still waiting after a while (update.ts: LINE_AFTER_MS) takes a place in the field's
 * line (`m:line:<field>` = "token until" pairs, oldest first); every write of the field hands the
 * turn to the first in line, so a writer that waits (polling) cannot keep losing the free turn to
 * writers that never sleep. Short waits stay first come, first served: a hand-off costs the new
 * holder a try against the hash it had.
 */
export const UPDATE = luaScript(`${READ_HASH}
local fields, all = read_hash(KEYS[1], ARGV[5] == '1')
if not fields then return false end
local field, token, waited = ARGV[1], ARGV[6], ARGV[7] == '1'
-- Redis's clock, read once and only where a turn is in play (the uncontended write needs none).
local now
local function clock_ms()
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end
local holder, till, of, live = nil, nil, nil, false
if fields['m:turn'] then
  holder, till, of = string.match(fields['m:turn'], '^(%S+) (%d+) (.*)$')
  if holder then live = tonumber(till) > clock_ms() end
end
local line_key = 'm:line:' .. field
local line, place = {}, nil
if fields[line_key] then
  for t, u in string.gmatch(fields[line_key], '(%S+) (%d+)') do
    if tonumber(u) > clock_ms() then
      line[#line + 1] = { t, u }
      if t == token then place = #line end
    end
  end
end
local function keep_line()
  local parts = {}
  for i, e in ipairs(line) do parts[i] = e[1] .. ' ' .. e[2] end
  if #parts > 0 then redis.call('HSET', KEYS[1], line_key, table.concat(parts, ' '))
  elseif fields[line_key] then redis.call('HDEL', KEYS[1], line_key) end
end
if live and holder ~= token and of == field then
  if waited and token ~= '' then
    local until_ms = tostring(clock_ms() + ${LINE_MS})
    if not place then
      line[#line + 1] = { token, until_ms }
      place = #line
    else line[place][2] = until_ms end
    keep_line()
  end
  return { 2, tonumber(till) - clock_ms(), place or 0 }
end
local current = fields[field]
local expected = ARGV[2]
if not ((expected == '' and not current) or (current and expected == '=' .. current)) then
  if not live and token ~= '' then
    redis.call('HSET', KEYS[1], 'm:turn', token .. ' ' .. (clock_ms() + ${TURN_MS}) .. ' ' .. field)
    if place then
      table.remove(line, place)
      keep_line()
    end
  end
  return { 0, all }
end
local value = ARGV[3] ~= '' and string.sub(ARGV[3], 2) or nil
if value then redis.call('HSET', KEYS[1], field, value, 'm:exp', ARGV[4])
else
  redis.call('HDEL', KEYS[1], field)
  redis.call('HSET', KEYS[1], 'm:exp', ARGV[4])
end
-- The turn ends with this write, or goes to the first in line; a live turn of another field stays.
if place then table.remove(line, place) end
if not (live and holder ~= token) then
  if #line > 0 then
    local first = table.remove(line, 1)
    redis.call('HSET', KEYS[1], 'm:turn', first[1] .. ' ' .. (clock_ms() + ${TURN_MS}) .. ' ' .. field)
  elseif fields['m:turn'] then redis.call('HDEL', KEYS[1], 'm:turn') end
end
if fields[line_key] then keep_line() end
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
-- The hash after the write, built from the one read (no second HGETALL), without turns and lines.
local after = {}
for i = 1, #all, 2 do
  local f = all[i]
  if f == 'm:exp' then
    after[#after + 1] = f
    after[#after + 1] = ARGV[4]
  elseif f ~= field and f ~= 'm:turn' and string.sub(f, 1, 7) ~= 'm:line:' then
    after[#after + 1] = f
    after[#after + 1] = all[i + 1]
  end
end
if value then
  after[#after + 1] = field
  after[#after + 1] = value
end
return { 1, after }
`)

/**
 * KEYS[1] session; ARGV: expiresAt. Nil when the session is gone (missing, not a hash, or without the
 * expiry every session has, which load() also calls no session), else { uid marker, index score or '' }.
 */
export const TOUCH = luaScript(`
local meta = redis.pcall('HMGET', KEYS[1], 'm:exp', 'm:uid', 'm:idx')
if type(meta) ~= 'table' or meta.err or not meta[1] then return false end
redis.call('HSET', KEYS[1], 'm:exp', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return { meta[2] or '-', meta[3] or '' }
`)

/** KEYS[1] session; ARGV: index score, uid marker. Records the score once the index holds it. */
export const MARK_INDEXED = luaScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
if redis.call('HGET', KEYS[1], 'm:uid') ~= ARGV[2] then return 0 end
local known = tonumber(redis.call('HGET', KEYS[1], 'm:idx') or '0')
if known < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'm:idx', ARGV[1]) end
return 1
`)

/** KEYS[1] session. Deletes it (whatever its type) and returns its uid marker, `-` when unknown. */
export const DESTROY = luaScript(`
local uid = '-'
if redis.call('TYPE', KEYS[1]).ok == 'hash' then uid = redis.call('HGET', KEYS[1], 'm:uid') or '-' end
redis.call('DEL', KEYS[1])
return uid
`)

/** KEYS[1] session; ARGV: uid marker. Deletes the session only if it still belongs to that user. */
export const DESTROY_IF_OWNED = luaScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
if redis.call('HGET', KEYS[1], 'm:uid') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

/**
 * KEYS[1] user index (sorted set: session id scored by expiry); ARGV: expiresAt, session id, now.
 * Drops expired members, raises (never lowers: GT) the member's score, and lets the index expire
 * with its last session.
 */
export const INDEX_ADD = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1
`)

/** KEYS[1] user index; ARGV: now. Drops expired members and returns the others. */
export const INDEX_LIST = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)
