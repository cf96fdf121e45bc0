/**
 * The Lua scripts of the store. Each route's Redis work runs as one script, so it is atomic: the
 * original server used MULTI for most routes and read-then-write for `set`, which lost concurrent
 * writes; here `set` merges inside Redis. Every script takes the namespace (with its `:`) as
 * ARGV[1] and builds the keys of the rest-sessions layout itself (single Redis, like the original).
 */

// Shared helpers. A session is valid while `ttl >= now - la`; `no_resave` sessions count their ttl
// down (redis-sessions' absolute expiry), which the original wrote back on every access.
const PRELUDE = String.raw`
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

local function touch_indexes(ns, app, token, s, now)
  redis.call('ZADD', ns .. app .. ':_sessions', now, token .. ':' .. s.id)
  redis.call('ZADD', ns .. app .. ':_users', now, s.id)
  redis.call('ZADD', ns .. 'SESSIONS', now + s.ttl, app .. ':' .. token .. ':' .. s.id)
end

-- Sliding expiry: la moves only when idle > 1 (the original's 2-second steps), or at once when the
-- caller sets a new ttl (sessionbridge extension).
local function slide(key, s, now, newttl)
  if newttl ~= '' then
    s.ttl = tonumber(newttl)
    s.idle = 0
    redis.call('HSET', key, 'ttl', newttl, 'la', now)
  else
    if s.no_resave then redis.call('HSET', key, 'ttl', s.ttl) end
    if s.idle > 1 then redis.call('HSET', key, 'la', now) end
  end
end

local function view(s)
  return { s.id, s.r, s.w, s.ttl, s.idle, s.ip, s.d or false }
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
slide(key, s, now, newttl)
touch_indexes(ns, app, token, s, now)
redis.call('HINCRBY', key, 'r', 1)
return view(s)
`

/**
 * ARGV: ns, app, token, now, newttl, then pairs of (JSON key, JSON value or '' to delete).
 * Merges into the stored `d` without decoding values: the stored JSON text of untouched keys is
 * kept byte for byte (Lua's cjson would round numbers to 14 digits and lose key order). Existing keys
 * keep their place, new keys are appended, like the original's _.extend. A `d` that does not scan
 * as a JSON object is replaced. Returns the view (w after the write) or nil.
 */
export const SET = String.raw`
local function scan_string(s, i)
  local j = i + 1
  while true do
    local c = string.find(s, '["\\]', j)
    if not c then return nil end
    if string.sub(s, c, c) == '"' then return c + 1 end
    j = c + 2
  end
end

local function skip_ws(s, i)
  local _, e = string.find(s, '^[ \t\r\n]*', i)
  return e + 1
end

local function scan_value(s, i)
  local c = string.sub(s, i, i)
  if c == '"' then return scan_string(s, i) end
  if c == '{' or c == '[' then
    local depth, j = 0, i
    while true do
      local p = string.find(s, '[%[%]{}"]', j)
      if not p then return nil end
      local ch = string.sub(s, p, p)
      if ch == '"' then
        j = scan_string(s, p)
        if not j then return nil end
      else
        if ch == '{' or ch == '[' then depth = depth + 1 else depth = depth - 1 end
        j = p + 1
        if depth == 0 then return j end
      end
    end
  end
  local _, e = string.find(s, '^[%w%.%+%-]+', i)
  if not e then return nil end
  return e + 1
end

-- The top-level members of a JSON object as raw text: keys, values, and key -> position.
local function scan_object(s)
  local keys, vals, pos = {}, {}, {}
  local i = skip_ws(s, 1)
  if string.sub(s, i, i) ~= '{' then return nil end
  i = skip_ws(s, i + 1)
  if string.sub(s, i, i) == '}' then return keys, vals, pos end
  while true do
    if string.sub(s, i, i) ~= '"' then return nil end
    local e = scan_string(s, i)
    if not e then return nil end
    local k = string.sub(s, i, e - 1)
    i = skip_ws(s, e)
    if string.sub(s, i, i) ~= ':' then return nil end
    i = skip_ws(s, i + 1)
    local ve = scan_value(s, i)
    if not ve then return nil end
    local v = string.sub(s, i, ve - 1)
    if pos[k] then vals[pos[k]] = v else
      keys[#keys + 1] = k
      vals[#vals + 1] = v
      pos[k] = #keys
    end
    i = skip_ws(s, ve)
    local c = string.sub(s, i, i)
    if c == '}' then return keys, vals, pos end
    if c ~= ',' then return nil end
    i = skip_ws(s, i + 1)
  end
end
${PRELUDE}
local ns, app, token, now, newttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local key = ns .. app .. ':' .. token
local s = load_session(key, now)
if not s then return false end
local keys, vals, pos
if s.d then keys, vals, pos = scan_object(s.d) end
if not keys then keys, vals, pos = {}, {}, {} end
for n = 6, #ARGV, 2 do
  local k, v = ARGV[n], ARGV[n + 1]
  local p = pos[k]
  if v == '' then
    if p then vals[p] = false end
  elseif p and vals[p] then
    vals[p] = v
  else
    keys[#keys + 1] = k
    vals[#vals + 1] = v
    pos[k] = #keys
  end
end
local parts = {}
for n = 1, #keys do
  if vals[n] then parts[#parts + 1] = keys[n] .. ':' .. vals[n] end
end
slide(key, s, now, newttl)
touch_indexes(ns, app, token, s, now)
s.w = redis.call('HINCRBY', key, 'w', 1)
if #parts > 0 then
  s.d = '{' .. table.concat(parts, ',') .. '}'
  redis.call('HSET', key, 'd', s.d)
else
  s.d = nil
  redis.call('HDEL', key, 'd')
end
return view(s)
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
