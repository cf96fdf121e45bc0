import { JSON_MEMBERS } from './lua-json.ts'

/**
 * The Lua scripts of the store. Each route's Redis work runs as one script, so it is atomic: the
 * original server used MULTI for most routes and read-then-write for `set`, which lost concurrent
 * writes; here `set` merges inside Redis. Every script takes the namespace (with its `:`) as
 * ARGV[1] and builds the keys of the rest-sessions layout itself (single Redis, like the original).
 *
 * Cost per call (INFO commandstats, EVALSHA included): a write is EVALSHA + HMGET + one HSET; when
 * the last access moves (at most once per 2 s per session, or on a ttl change; a `newttl` equal to
 * the stored ttl is no change) three ZADDs of the index scores follow. A read is the GET script
 * only when the last access may move (or the process has not seen the session yet); otherwise it
 * is HMGET + HINCRBY without a script (fast-read.ts).
 */

// Shared helpers. A session is valid while `ttl >= now - la`; `no_resave` sessions count their ttl
// down (redis-sessions' absolute expiry), which the original wrote back on every access.
const PRELUDE = `
local function load_session(key, now)
  local s = redis.call('HMGET', key, 'id', 'r', 'w', 'ttl', 'la', 'ip', 'no_resave', 'd')
  if not s[1] then return nil end
  local ttl, la = tonumber(s[4]), tonumber(s[5])
  if not ttl or not la then return nil end
  local idle = now - la
  if ttl < idle then return nil end
  local o = { id = s[1], r = tonumber(s[2]) or 0, w = tonumber(s[3]) or 0, ttl = ttl, la = la, idle = idle, ip = s[6] or '', d = s[8] }
  if s[7] == '1' then
    o.no_resave = true
    o.ttl = ttl - idle
  end
  return o
end

-- Index scores: last access (activity, soapp) and expiry = la + ttl (the wiper). They change only
-- when la or ttl does, so they are written only then.
local function touch_indexes(ns, app, token, s, now)
  redis.call('ZADD', ns .. app .. ':_sessions', now, token .. ':' .. s.id)
  redis.call('ZADD', ns .. app .. ':_users', now, s.id)
  redis.call('ZADD', ns .. 'SESSIONS', now + s.ttl, app .. ':' .. token .. ':' .. s.id)
end

-- Writes the fields in one HSET, with the sliding expiry: la moves only when idle > 1 (the
-- original's 2-second steps), or at once when the caller sets a new ttl (sessionbridge extension).
-- A newttl equal to the ttl stored changes nothing but la, so it slides in the same steps: a
-- client that sends its ttl with every write (sessionbridge's exactExpiry) then costs no index
-- ZADDs but when la moves.
local function save_session(ns, app, token, key, s, now, newttl, fields)
  local moved = s.no_resave
  if newttl ~= '' and (tonumber(newttl) ~= s.ttl or s.no_resave) then
    s.ttl = tonumber(newttl)
    s.idle = 0
    fields[#fields + 1] = 'ttl'
    fields[#fields + 1] = newttl
    fields[#fields + 1] = 'la'
    fields[#fields + 1] = now
    moved = true
  else
    if s.no_resave then
      fields[#fields + 1] = 'ttl'
      fields[#fields + 1] = s.ttl
    end
    if s.idle > 1 then
      fields[#fields + 1] = 'la'
      fields[#fields + 1] = now
      moved = true
    end
  end
  redis.call('HSET', key, unpack(fields))
  if moved then touch_indexes(ns, app, token, s, now) end
end

-- Stores d (nil = none) with the write counter; returns nothing.
local function write_data(ns, app, token, key, s, now, newttl, d)
  local had = s.d
  s.w = s.w + 1
  s.d = d
  local fields = { 'w', s.w }
  if d then
    fields[3] = 'd'
    fields[4] = d
  end
  save_session(ns, app, token, key, s, now, newttl, fields)
  if had and not d then redis.call('HDEL', key, 'd') end
end

-- The 8th element (1 for a no_resave session) is for the store's last-access cache, not the answer.
local function view(s)
  return { s.id, s.r, s.w, s.ttl, s.idle, s.ip, s.d or false, s.no_resave and 1 or 0 }
end

local function destroy(ns, app, token, id)
  redis.call('ZREM', ns .. app .. ':_sessions', token .. ':' .. id)
  redis.call('SREM', ns .. app .. ':us:' .. id, token)
  redis.call('ZREM', ns .. 'SESSIONS', app .. ':' .. token .. ':' .. id)
  local n = redis.call('DEL', ns .. app .. ':' .. token)
  if redis.call('EXISTS', ns .. app .. ':us:' .. id) == 0 then
    redis.call('ZREM', ns .. app .. ':_users', id)
  end
  return n
end
`

/** ARGV: ns, app, token, id, ip, now, ttl, d ('' = none). Returns 1, or 0 if the token exists. */
export const CREATE = `${PRELUDE}
local ns, app, token, id, ip, now, ttl, d = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local key = ns .. app .. ':' .. token
if redis.call('EXISTS', key) == 1 then return 0 end
touch_indexes(ns, app, token, { id = id, ttl = tonumber(ttl) }, now)
redis.call('SADD', ns .. app .. ':us:' .. id, token)
if d ~= '' then
  redis.call('HSET', key, 'id', id, 'r', 1, 'w', 1, 'ip', ip, 'la', now, 'ttl', ttl, 'd', d)
else
  redis.call('HSET', key, 'id', id, 'r', 1, 'w', 1, 'ip', ip, 'la', now, 'ttl', ttl)
end
return 1
`

/** ARGV: ns, app, token, now, newttl ('' = keep). Returns the session view (r before the read) or nil. */
export const GET = `${PRELUDE}
local ns, app, token, now, newttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local key = ns .. app .. ':' .. token
local s = load_session(key, now)
if not s then return false end
save_session(ns, app, token, key, s, now, newttl, { 'r', s.r + 1 })
return view(s)
`

/** ARGV: ns, app, token, now. The session view without any side effect, or nil (strict mode's read before its write). */
export const PEEK = `${PRELUDE}
local s = load_session(ARGV[1] .. ARGV[2] .. ':' .. ARGV[3], tonumber(ARGV[4]))
if not s then return false end
return view(s)
`

/**
 * ARGV: ns, app, token, now, newttl, guard ('1' or '0'), then pairs of (JSON key, JSON value or ''
 * to delete). Merges into the stored `d` (see JSON_MEMBERS); a `d` that does not scan as a JSON
 * object is replaced, unless `guard` is '1': then a `d` the client could not decode (see
 * `decodable`) is left as it is and the answer is 0. Returns the view (w after the write), 0 or nil.
 */
export const SET = `${JSON_MEMBERS}${PRELUDE}
local ns, app, token, now, newttl, guard = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local key = ns .. app .. ':' .. token
local s = load_session(key, now)
if not s then return false end
if guard == '1' and not decodable(s.d) then return 0 end
local m = members(s.d)
for n = 7, #ARGV, 2 do put_member(m, ARGV[n], ARGV[n + 1]) end
write_data(ns, app, token, key, s, now, newttl, join_members(m))
return view(s)
`

/**
 * ARGV: ns, app, token, now, newttl, d (JSON text, '' = none). Writes `d` whole: strict mode's
 * second step, after a PEEK and a merge in Node, as the original did. Returns the view or nil.
 */
export const SET_WHOLE = `${PRELUDE}
local ns, app, token, now, newttl, d = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local key = ns .. app .. ':' .. token
local s = load_session(key, now)
if not s then return false end
if d == '' then d = nil end
write_data(ns, app, token, key, s, now, newttl, d)
return view(s)
`

/**
 * Compare-and-set of one key (sessionbridge extension). ARGV: ns, app, token, now, newttl, JSON key,
 * '1' if a value is expected ('0': the key must be absent), the expected raw JSON text, the new JSON
 * value ('' deletes). Returns nil (no session), { 0, current raw text or false } on a mismatch (nothing
 * written), or { 1, view } once written.
 */
export const UPDATE = `${JSON_MEMBERS}${PRELUDE}
local ns, app, token, now, newttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local k, expected, value = ARGV[6], nil, ARGV[9]
if ARGV[7] == '1' then expected = ARGV[8] end
local key = ns .. app .. ':' .. token
local s = load_session(key, now)
if not s then return false end
local m = members(s.d)
local current = member(m, k)
if current ~= expected then return { 0, current or false } end
put_member(m, k, value)
write_data(ns, app, token, key, s, now, newttl, join_members(m))
return { 1, view(s) }
`

/** ARGV: ns, app, token, now. Deletes a live session; expired ones are left to the wiper. */
export const KILL = `${PRELUDE}
local ns, app, token, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local s = load_session(ns .. app .. ':' .. token, now)
if not s then return 0 end
return destroy(ns, app, token, s.id)
`

/** ARGV: ns, app, id. Deletes every session of the id, expired ones included. */
export const KILL_SOID = `${PRELUDE}
local ns, app, id = ARGV[1], ARGV[2], ARGV[3]
local total = 0
for _, token in ipairs(redis.call('SMEMBERS', ns .. app .. ':us:' .. id)) do
  total = total + destroy(ns, app, token, id)
end
return total
`

/** ARGV: ns, app. Deletes every session of the app; answers how many index entries it removed. */
export const KILL_ALL = `${PRELUDE}
local ns, app = ARGV[1], ARGV[2]
local members = redis.call('ZRANGE', ns .. app .. ':_sessions', 0, -1)
for _, m in ipairs(members) do
  local c = string.find(m, ':', 1, true)
  if c then
    destroy(ns, app, string.sub(m, 1, c - 1), string.sub(m, c + 1))
  end
  redis.call('ZREM', ns .. app .. ':_sessions', m)
end
return #members
`

/** ARGV: ns, app, id, now. The live sessions of one id (soid), read in one step. */
export const SOID = `${PRELUDE}
local ns, app, id, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local out = {}
for _, token in ipairs(redis.call('SMEMBERS', ns .. app .. ':us:' .. id)) do
  local s = load_session(ns .. app .. ':' .. token, now)
  if s then out[#out + 1] = view(s) end
end
return out
`

/** ARGV: ns, app, now, dt. The live sessions active within dt seconds, most recent first (soapp). */
export const SOAPP = `${PRELUDE}
local ns, app, now, dt = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for _, m in ipairs(redis.call('ZREVRANGEBYSCORE', ns .. app .. ':_sessions', '+inf', now - dt)) do
  local c = string.find(m, ':', 1, true)
  if c then
    local s = load_session(ns .. app .. ':' .. string.sub(m, 1, c - 1), now)
    if s then out[#out + 1] = view(s) end
  end
end
return out
`

/**
 * ARGV: ns, now, limit. Deletes up to `limit` expired sessions listed in SESSIONS. A session that
 * is still alive (its score went stale) gets its score fixed instead. Returns { seen, deleted }.
 */
export const WIPE = `${PRELUDE}
local ns, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local members = redis.call('ZRANGEBYSCORE', ns .. 'SESSIONS', '-inf', now, 'LIMIT', 0, limit)
local deleted = 0
for _, m in ipairs(members) do
  local a = string.find(m, ':', 1, true)
  local b = a and string.find(m, ':', a + 1, true)
  if b then
    local app, token, id = string.sub(m, 1, a - 1), string.sub(m, a + 1, b - 1), string.sub(m, b + 1)
    local s = load_session(ns .. app .. ':' .. token, now)
    if s then
      redis.call('ZADD', ns .. 'SESSIONS', s.la + s.ttl + 1, m)
    else
      deleted = deleted + destroy(ns, app, token, id)
      redis.call('ZREM', ns .. 'SESSIONS', m)
    end
  else
    redis.call('ZREM', ns .. 'SESSIONS', m)
  end
end
return { #members, deleted }
`
