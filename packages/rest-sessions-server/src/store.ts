import { createHash } from 'node:crypto'
import { ErrorReply } from 'redis'
import { ProtocolError, RedisUnavailableError } from './errors.ts'
import { fastRead, LastAccessCache, type RawView } from './fast-read.ts'
import {
  CREATE,
  GET,
  KILL,
  KILL_ALL,
  KILL_SOID,
  PEEK,
  SET,
  SET_WHOLE,
  SOAPP,
  SOID,
  UPDATE,
  WIPE,
} from './lua.ts'
import { createToken } from './token.ts'
import type { FlatValue } from './validate.ts'

/** The one command a store needs from a Redis client: node-redis' `sendCommand`. */
export interface RedisCommandSender {
  sendCommand(args: string[]): Promise<unknown>
}

/** A session as the protocol answers it; the field order is the original's. */
export interface SessionView {
  id: string
  r: number
  w: number
  ttl: number
  idle: number
  ip: string
  d?: Record<string, unknown>
}

/** Options of `sessionStore`. */
export interface SessionStoreOptions {
  redis: RedisCommandSender
  /** Key prefix, without the `:`. @default 'rs' */
  namespace?: string
  /** Longest wait for Redis per operation, ms; then 503. @default 2000 */
  timeout?: number
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
  /** Where a stored `d` that is not JSON is reported. @default console.warn */
  warn?: (message: string) => void
  /**
   * `set` merges inside Redis in one step. `false` reproduces the original: read, merge in Node,
   * write the whole `d` back (two round trips; parallel writers lose keys). @default true
   */
  atomicSet?: boolean
  /**
   * Sessions whose last access the process remembers, so that a read that moves nothing but the
   * read counter is HMGET + HINCRBY (two Redis commands, one round trip) instead of the GET script
   * (three); `0` sends every read through the script. @default 10000
   */
  readCacheSize?: number
}

/** What a compare-and-set of one key did (`SessionStore.update`). */
export type UpdateOutcome =
  | { updated: true; session: SessionView }
  | { updated: false; current: string | null }

/**
 * The store's operations: one Lua script (one round trip) each, except a non-atomic `set` (two) and
 * a read whose last access does not move (two plain commands in one round trip).
 */
export interface SessionStore {
  create(app: string, id: string, ip: string, ttl: number, d: Array<[string, FlatValue]>): Promise<string>
  get(app: string, token: string, newTtl?: number): Promise<SessionView | null>
  /**
   * Merges `d` into the session. With `guard` (the `guard` extension), a session holding data the
   * sessionbridge client cannot decode is left untouched and the answer is `'undecodable'`.
   */
  set(
    app: string,
    token: string,
    d: Array<[string, FlatValue]>,
    newTtl?: number,
    guard?: boolean,
  ): Promise<SessionView | null | 'undecodable'>
  /**
   * Sets (or, with `null`, deletes) one key only if its stored JSON text is `expected` (`null`: the
   * key must be absent). `null` when there is no session.
   */
  update(
    app: string,
    token: string,
    key: string,
    expected: string | null,
    value: FlatValue,
    newTtl?: number,
  ): Promise<UpdateOutcome | null>
  soid(app: string, id: string): Promise<SessionView[]>
  soapp(app: string, dt: number): Promise<SessionView[]>
  activity(app: string, dt: number): Promise<number>
  kill(app: string, token: string): Promise<number>
  killsoid(app: string, id: string): Promise<number>
  killall(app: string): Promise<number>
  /** Deletes expired sessions (the wiper); returns how many. */
  wipe(): Promise<number>
  ping(): Promise<string>
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')
const WIPE_BATCH = 500

/**
 * The rest-sessions Redis layout (§8 of the protocol reference), so this server can take over a
 * Redis the original wrote, and the original could read ours.
 */
export function sessionStore(options: SessionStoreOptions): SessionStore {
  const resolved = Object.freeze({
    redis: options.redis,
    ns: `${options.namespace ?? 'rs'}:`,
    timeout: options.timeout ?? 2000,
    now: options.now ?? Date.now,
    warn: options.warn ?? ((message: string) => console.warn(message)),
    atomicSet: options.atomicSet ?? true,
    readCacheSize: options.readCacheSize ?? 10_000,
  })
  const { redis, ns, timeout, now, warn, atomicSet } = resolved
  const seconds = () => String(Math.floor(now() / 1000))
  const lastAccess = new LastAccessCache(resolved.readCacheSize)
  /** Notes the last access a script's view implies (`raw` as the script answered it). */
  const remember = (app: string, token: string, at: string, raw: unknown) => {
    const [, , , , idle, , , noResave] = raw as [...RawView, number]
    lastAccess.remember(`${app}:${token}`, Number(at), Number(idle), Number(noResave) === 1)
  }
  const shas = new Map<string, string>()

  const withDeadline = async <T>(call: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailableError(`Redis did not answer within ${timeout} ms`)),
        timeout,
      )
    })
    try {
      return await Promise.race([call, deadline])
    } catch (error) {
      throw asProtocolError(error)
    } finally {
      clearTimeout(timer)
    }
  }
  const command = (args: string[]) => withDeadline(redis.sendCommand(args))
  const script = async (lua: string, args: string[]): Promise<unknown> => {
    let sha = shas.get(lua)
    if (!sha) {
      sha = sha1(lua)
      shas.set(lua, sha)
    }
    try {
      return await withDeadline(redis.sendCommand(['EVALSHA', sha, '0', ...args]))
    } catch (error) {
      if (!(error instanceof ProtocolError && error.message.startsWith('NOSCRIPT'))) throw error
      return withDeadline(redis.sendCommand(['EVAL', lua, '0', ...args]))
    }
  }

  const toView = (raw: unknown, app: string): SessionView => {
    const [id, r, w, ttl, idle, ip, d] = raw as [
      string,
      number,
      number,
      number,
      number,
      string,
      string | null,
    ]
    const view: SessionView = { id, r: Number(r), w: Number(w), ttl: Number(ttl), idle: Number(idle), ip }
    if (typeof d === 'string') {
      try {
        view.d = JSON.parse(d) as Record<string, unknown>
      } catch {
        warn(
          `[rest-sessions-server] ${app} session of ${JSON.stringify(id)}: stored d is not JSON; answering without it`,
        )
      }
    }
    return view
  }
  const toViews = (raw: unknown, app: string) =>
    Array.isArray(raw) ? raw.map((one) => toView(one, app)) : []
  const ttlArg = (ttl: number | undefined) => (ttl === undefined ? '' : String(ttl))
  /** The original's `set`: read, merge in Node (`_.extend`, null deletes), write `d` whole. */
  const setNonAtomic = async (
    app: string,
    token: string,
    d: Array<[string, FlatValue]>,
    newTtl: number | undefined,
    guard: boolean,
  ) => {
    const before = await script(PEEK, [ns, app, token, seconds()])
    if (!before) return null
    if (guard && !decodable((before as unknown[])[6])) return 'undecodable' as const
    const merged: Record<string, unknown> = Object.assign(Object.create(null), toView(before, app).d)
    for (const [key, value] of d) {
      if (value === null) delete merged[key]
      else merged[key] = value
    }
    const json = Object.keys(merged).length === 0 ? '' : JSON.stringify(merged)
    const raw = await script(SET_WHOLE, [ns, app, token, seconds(), ttlArg(newTtl), json])
    return raw ? toView(raw, app) : null
  }

  return {
    async create(app, id, ip, ttl, d) {
      const kept = d.filter(([, value]) => value !== null)
      const json =
        kept.length === 0
          ? ''
          : `{${kept.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`
      // 381 random bits never collide in practice; the script still refuses to overwrite.
      for (;;) {
        const token = createToken()
        const at = seconds()
        const created = await script(CREATE, [ns, app, token, id, ip, at, String(ttl), json])
        if (Number(created) === 1) {
          lastAccess.set(`${app}:${token}`, Number(at))
          return token
        }
      }
    },
    async get(app, token, newTtl) {
      const at = seconds()
      if (newTtl === undefined) {
        const key = `${ns}${app}:${token}`
        const fast = await fastRead(redis, withDeadline, lastAccess, `${app}:${token}`, key, Number(at))
        if (fast !== undefined) return fast ? toView(fast, app) : null
      }
      const raw = await script(GET, [ns, app, token, at, ttlArg(newTtl)])
      if (!raw) {
        lastAccess.delete(`${app}:${token}`)
        return null
      }
      remember(app, token, at, raw)
      return toView(raw, app)
    },
    async set(app, token, d, newTtl, guard = false) {
      if (!atomicSet) return setNonAtomic(app, token, d, newTtl, guard)
      const pairs: string[] = []
      for (const [key, value] of d)
        pairs.push(JSON.stringify(key), value === null ? '' : JSON.stringify(value))
      const at = seconds()
      const raw = await script(SET, [ns, app, token, at, ttlArg(newTtl), guard ? '1' : '0', ...pairs])
      if (Array.isArray(raw)) {
        remember(app, token, at, raw)
        return toView(raw, app)
      }
      return raw === 0 || raw === '0' ? 'undecodable' : null
    },
    async update(app, token, key, expected, value, newTtl) {
      const raw = (await script(UPDATE, [
        ns,
        app,
        token,
        seconds(),
        ttlArg(newTtl),
        JSON.stringify(key),
        expected === null ? '0' : '1',
        expected ?? '',
        value === null ? '' : JSON.stringify(value),
      ])) as [number, unknown] | null
      if (!raw) return null
      if (Number(raw[0]) === 1) return { updated: true, session: toView(raw[1], app) }
      return { updated: false, current: typeof raw[1] === 'string' ? raw[1] : null }
    },
    async soid(app, id) {
      return toViews(await script(SOID, [ns, app, id, seconds()]), app)
    },
    async soapp(app, dt) {
      return toViews(await script(SOAPP, [ns, app, seconds(), String(dt)]), app)
    },
    async activity(app, dt) {
      const since = String(Math.floor(now() / 1000) - dt)
      return Number(await command(['ZCOUNT', `${ns}${app}:_users`, since, '+inf']))
    },
    async kill(app, token) {
      lastAccess.delete(`${app}:${token}`)
      return Number(await script(KILL, [ns, app, token, seconds()]))
    },
    async killsoid(app, id) {
      return Number(await script(KILL_SOID, [ns, app, id]))
    },
    async killall(app) {
      return Number(await script(KILL_ALL, [ns, app]))
    },
    async wipe() {
      let deleted = 0
      for (;;) {
        const [seen, gone] = (await script(WIPE, [ns, seconds(), String(WIPE_BATCH)])) as [number, number]
        deleted += Number(gone)
        if (Number(seen) < WIPE_BATCH) return deleted
      }
    },
    async ping() {
      return String(await command(['PING']))
    },
  }
}

/** sessionbridge's marker of a JSON-encoded value (`@sessionbridge/rest-sessions`). */
const JSON_MARKER = '\u0000sbjson:'

/**
 * The `guard` rule in Node (the non-atomic set; the Lua `decodable` is the same rule): a stored `d`
 * is decodable when absent, or a JSON object none of whose marked string values holds bad JSON.
 */
function decodable(d: unknown): boolean {
  if (typeof d !== 'string') return true
  let parsed: unknown
  try {
    parsed = JSON.parse(d)
  } catch {
    return false
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return false
  for (const value of Object.values(parsed)) {
    if (typeof value !== 'string' || !value.startsWith(JSON_MARKER)) continue
    try {
      JSON.parse(value.slice(JSON_MARKER.length))
    } catch {
      return false
    }
  }
  return true
}

/** Redis' own error replies are 500s; everything else (offline, closed, timeout) is a 503. */
function asProtocolError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof ErrorReply) {
    const reply = new ProtocolError(500, 'redisError', message)
    reply.cause = error
    return reply
  }
  return new RedisUnavailableError(`Redis is unavailable: ${message}`, { cause: error })
}
