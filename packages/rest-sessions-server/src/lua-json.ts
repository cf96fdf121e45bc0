/**
 * Lua helpers that edit the members of a stored `d` (a JSON object) as raw text, without decoding
 * values: the stored JSON text of untouched keys is kept byte for byte (Lua's cjson would round
 * numbers to 14 digits and lose key order). Existing keys keep their place, new keys are appended,
 * like the original's `_.extend`. Keys and values arrive as JSON text; '' as a value deletes.
 */
export const JSON_MEMBERS = String.raw`
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

-- The top-level members of a JSON object as raw text: { keys, vals, pos = key -> index }, or nil
-- when the text does not scan as an object.
local function scan_object(s)
  local m = { keys = {}, vals = {}, pos = {} }
  local i = skip_ws(s, 1)
  if string.sub(s, i, i) ~= '{' then return nil end
  i = skip_ws(s, i + 1)
  if string.sub(s, i, i) == '}' then return m end
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
    if m.pos[k] then m.vals[m.pos[k]] = v else
      m.keys[#m.keys + 1] = k
      m.vals[#m.vals + 1] = v
      m.pos[k] = #m.keys
    end
    i = skip_ws(s, ve)
    local c = string.sub(s, i, i)
    if c == '}' then return m end
    if c ~= ',' then return nil end
    i = skip_ws(s, i + 1)
  end
end

-- The members of a stored d; a d that is absent or does not scan as an object counts as empty.
local function members(d)
  return (d and scan_object(d)) or { keys = {}, vals = {}, pos = {} }
end

-- Whether a stored d is one the sessionbridge client can decode (the guard extension): absent, or a
-- JSON object none of whose values is a marked string ('\u0000sbjson:' then JSON text, see
-- @sessionbridge/rest-sessions) whose JSON text does not parse. Only marked values are decoded.
local function decodable(d)
  if not d then return true end
  local m = scan_object(d)
  if not m then return false end
  for n = 1, #m.vals do
    local v = m.vals[n]
    if v and string.sub(v, 1, 14) == '"\\u0000sbjson:' then
      local ok, text = pcall(cjson.decode, v)
      if not ok or type(text) ~= 'string' then return false end
      if not pcall(cjson.decode, string.sub(text, 9)) then return false end
    end
  end
  return true
end

-- The raw JSON text stored under a key, or nil.
local function member(m, k)
  local p = m.pos[k]
  if p and m.vals[p] then return m.vals[p] end
  return nil
end

local function put_member(m, k, v)
  local p = m.pos[k]
  if v == '' then
    if p then m.vals[p] = false end
  elseif p and m.vals[p] then
    m.vals[p] = v
  else
    m.keys[#m.keys + 1] = k
    m.vals[#m.vals + 1] = v
    m.pos[k] = #m.keys
  end
end

-- The object's text, or nil when no member is left.
local function join_members(m)
  local parts = {}
  for n = 1, #m.keys do
    if m.vals[n] then parts[#parts + 1] = m.keys[n] .. ':' .. m.vals[n] end
  end
  if #parts == 0 then return nil end
  return '{' .. table.concat(parts, ',') .. '}'
end
`
