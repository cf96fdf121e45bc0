import {
  defaultIdFormat,
  type IdFormat,
  jsonCodec,
  plainData,
  type SessionBackend,
  SessionBackendError,
  type SessionCodec,
  SessionConfigError,
  type SessionData,
  type SessionLogger,
  type SessionRecord,
} from '@sessionbridge/core'
import { type ChangeSet, isPlainObject } from '@sessionbridge/core/adapter'
import { errorMessage, type RedisCommands, resolveCommands } from './commands.ts'
import {
  CREATE,
  DESTROY,
  DESTROY_IF_OWNED,
  INDEX_ADD,
  INDEX_LIST,
  type LuaScript,
  MARK_INDEXED,
  SAVE,
  TOUCH,
} from './scripts.ts'

/** Options of `redisBackend`. */
export interface RedisBackendOptions {
  /** The client, wrapped: `nodeRedisAdapter(client)` or `ioredisAdapter(client)`. */
  client: RedisCommands
  /** Prefix of every key: sessions are `<prefix><id>`, user indexes `<prefix>user:{<user id>}`. @default 'sb:sess:' */
  prefix?: string
  /** Session id format. @default the codec's, else djangoIdFormat (32 x [a-z0-9]) */
  idFormat?: IdFormat
  /** Encodes each stored value (as the one-key map `{ key: value }`). @default jsonCodec */
  codec?: SessionCodec
  /** Keep a per-user index for `destroyUser` / `listUser` ("log out everywhere"). @default true */
  userIndex?: boolean
  /** Where warnings about undecodable records go. @default console */
  logger?: SessionLogger
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

const PKG = 'redis'
const DATA = 'd:'
const EXPIRES = 'm:exp'
const USER = 'm:uid'
/** Most slack added to an index score (see `indexScore`). */
const INDEX_SLACK_MS = 3_600_000
const uidMarker = (userId: string | null) => (userId === null ? '-' : `+${userId}`)
const userOfMarker = (marker: unknown) =>
  typeof marker === 'string' && marker.startsWith('+') ? marker.slice(1) : null

/**
 * A Redis session store. Each session is one hash (`d:<key>` per data key, plus its expiry and
 * user), so `save` merges a change set atomically in one Lua script and concurrent writers of
 * different keys all survive. Every command touches one key: Redis Cluster works unchanged.
 */
export function redisBackend(options: RedisBackendOptions): SessionBackend {
  if (!options || typeof options !== 'object') throw new SessionConfigError(PKG, 'client', 'missing %s')
  const commands = resolveCommands(options.client)
  const prefix = options.prefix ?? 'sb:sess:'
  if (typeof prefix !== 'string') throw new SessionConfigError(PKG, 'prefix', '%s must be a string')
  const codec = options.codec ?? jsonCodec
  if (typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new SessionConfigError(PKG, 'codec', '%s must have encode() and decode()')
  }
  const resolved = Object.freeze({
    prefix,
    codec,
    idFormat: options.idFormat ?? codec.idFormat ?? defaultIdFormat,
    userIndex: options.userIndex ?? true,
    logger: options.logger ?? console,
    now: options.now ?? Date.now,
  })
  const { idFormat, userIndex, logger, now } = resolved
  const sessionKey = (id: string) => `${prefix}${id}`
  const indexKey = (userId: string) => `${prefix}user:{${userId}}`

  /** Runs one call; any failure becomes a SessionBackendError naming the operation. */
  const io = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call()
    } catch (error) {
      throw new SessionBackendError(PKG, operation, errorMessage(error), { cause: error })
    }
  }
  const script = (operation: string, lua: LuaScript, key: string, args: readonly string[]) =>
    io(operation, () => lua.run(commands, key, args))
  const send = (operation: string, key: string, args: readonly string[]) =>
    io(operation, () => commands.send(key, args))

  const encodeFields = async (values: Record<string, unknown>): Promise<string[]> => {
    const out: string[] = []
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue
      out.push(`${DATA}${key}`, await codec.encode({ [key]: value }))
    }
    return out
  }
  // The default codec is decoded inline: loads stay free of one promise per stored key.
  const decodeValue = (stored: string): unknown | Promise<unknown> => {
    if (codec !== jsonCodec) return codec.decode(stored).catch(() => null) // a codec that throws: undecodable
    try {
      return JSON.parse(stored)
    } catch {
      return null
    }
  }
  const warn = (id: string, why: string): null => {
    logger.warn(`[sessionbridge/redis] session ${id.slice(0, 6)}... ${why}; treating it as no session`)
    return null
  }

  const decodeHash = async (id: string, flat: unknown): Promise<SessionRecord | null> => {
    if (!Array.isArray(flat) || flat.length === 0) return null
    const data: SessionData = plainData() // a field named `__proto__` stays data
    let expiresAt = Number.NaN
    let userId: string | null = null
    let hasUser = false
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field: unknown = flat[i]
      const value: unknown = flat[i + 1]
      if (typeof field !== 'string' || typeof value !== 'string') return warn(id, 'has a non-text field')
      if (field === EXPIRES) expiresAt = Number(value)
      else if (field === USER) {
        hasUser = value === '-' || value.startsWith('+')
        userId = userOfMarker(value)
      } else if (field.startsWith(DATA)) {
        const key = field.slice(DATA.length)
        const pending = decodeValue(value)
        const decoded = pending instanceof Promise ? await pending : pending
        if (!isPlainObject(decoded)) return warn(id, `has an undecodable value for "${key}"`)
        if (Object.hasOwn(decoded, key)) data[key] = decoded[key]
      }
    }
    if (!Number.isSafeInteger(expiresAt) || !hasUser) return warn(id, 'lacks its expiry or user field')
    if (expiresAt <= now()) return null
    return { data, expiresAt, userId }
  }

  /**
   * The score a session gets in its user's index: its expiry plus some slack (a quarter of its
   * remaining life, at most an hour), so that a session saved or touched again and again updates
   * the index rarely. The score only ever grows (ZADD GT), so it never drops below the expiry.
   */
  const indexScore = (expiresAt: number) =>
    expiresAt + Math.min(INDEX_SLACK_MS, Math.floor(Math.max(0, expiresAt - now()) / 4))
  const indexAdd = (operation: string, userId: string, id: string, score: number) =>
    script(operation, INDEX_ADD, indexKey(userId), [String(score), id, String(now())])
  /** Raises the session's score in the index when its new expiry passes the score last recorded. */
  const keepIndexed = async (
    operation: string,
    id: string,
    userId: string,
    expiresAt: number,
    known: unknown,
  ) => {
    if (Number(known) >= expiresAt) return
    const score = indexScore(expiresAt)
    await indexAdd(operation, userId, id, score)
    await script(operation, MARK_INDEXED, sessionKey(id), [String(score), uidMarker(userId)])
  }
  const indexRemove = (operation: string, userId: string, id: string) =>
    send(operation, indexKey(userId), ['ZREM', indexKey(userId), id])

  /** Ids in the user's index that still name a live session of that user; strays are removed. */
  const liveSessionsOf = async (operation: string, userId: string): Promise<string[]> => {
    const members = await script(operation, INDEX_LIST, indexKey(userId), [String(now())])
    const ids = Array.isArray(members) ? members.filter((m): m is string => typeof m === 'string') : []
    const owners = await Promise.all(
      ids.map((id) => send(operation, sessionKey(id), ['HGET', sessionKey(id), USER])),
    )
    const live: string[] = []
    const strays: string[] = []
    for (const [i, id] of ids.entries()) (owners[i] === uidMarker(userId) ? live : strays).push(id)
    if (strays.length > 0) await send(operation, indexKey(userId), ['ZREM', indexKey(userId), ...strays])
    return live
  }

  const backend: SessionBackend = {
    name: PKG,
    idFormat,
    capabilities: {
      merge: true,
      issuesIds: false,
      anonymous: true,
      destroyUser: userIndex,
      listUser: userIndex,
      clearExpired: false,
      update: false,
    },

    async load(id) {
      if (!idFormat.validate(id)) return null
      let flat: unknown
      try {
        flat = await commands.send(sessionKey(id), ['HGETALL', sessionKey(id)])
      } catch (error) {
        // A key of another type is malformed data, not an outage.
        if (errorMessage(error).startsWith('WRONGTYPE')) return warn(id, 'is not a hash')
        throw new SessionBackendError(PKG, 'load', errorMessage(error), { cause: error })
      }
      return decodeHash(id, flat)
    },

    async create(proposedId, record) {
      if (!idFormat.validate(proposedId)) return null
      const fields = await encodeFields(record.data)
      const indexing = userIndex && record.userId !== null
      const score = indexing ? indexScore(record.expiresAt) : null
      const args = [
        String(record.expiresAt),
        uidMarker(record.userId),
        score === null ? '' : String(score),
        ...fields,
      ]
      // The index entry travels beside the script (one round trip) and is taken back on a collision.
      const [created] = await Promise.all([
        script('create', CREATE, sessionKey(proposedId), args),
        score !== null ? indexAdd('create', record.userId!, proposedId, score) : null,
      ])
      if (created === 1) return proposedId
      if (indexing) await indexRemove('create', record.userId!, proposedId)
      return null
    },

    async save(id: string, changes: ChangeSet, record: SessionRecord) {
      if (!idFormat.validate(id)) return false
      const set = await encodeFields(changes.set)
      const deleted = changes.deleted.map((key) => `${DATA}${key}`)
      const args = [
        String(record.expiresAt),
        uidMarker(record.userId),
        String(set.length / 2),
        ...set,
        ...deleted,
      ]
      const reply = await script('save', SAVE, sessionKey(id), args)
      if (!Array.isArray(reply)) return false
      const [previous, known] = reply as unknown[]
      const previousUser = userOfMarker(previous)
      if (userIndex && previousUser !== null && previousUser !== record.userId) {
        await indexRemove('save', previousUser, id)
      }
      if (userIndex && record.userId !== null)
        await keepIndexed('save', id, record.userId, record.expiresAt, known)
      return true
    },

    async touch(id, expiresAt) {
      if (!idFormat.validate(id)) return false
      const reply = await script('touch', TOUCH, sessionKey(id), [String(expiresAt)])
      if (!Array.isArray(reply)) return false
      const [marker, known] = reply as unknown[]
      const userId = userOfMarker(marker)
      if (userIndex && userId !== null) await keepIndexed('touch', id, userId, expiresAt, known)
      return true
    },

    async destroy(id) {
      if (!idFormat.validate(id)) return
      if (!userIndex) {
        await send('destroy', sessionKey(id), ['DEL', sessionKey(id)])
        return
      }
      const userId = userOfMarker(await script('destroy', DESTROY, sessionKey(id), []))
      if (userId !== null) await indexRemove('destroy', userId, id)
    },
  }
  if (!userIndex) return backend
  return {
    ...backend,
    async destroyUser(userId: string) {
      const ids = await liveSessionsOf('destroyUser', userId)
      const deleted = await Promise.all(
        ids.map((id) => script('destroyUser', DESTROY_IF_OWNED, sessionKey(id), [uidMarker(userId)])),
      )
      if (ids.length > 0) await send('destroyUser', indexKey(userId), ['ZREM', indexKey(userId), ...ids])
      return deleted.filter((n) => n === 1).length
    },
    async listUser(userId: string) {
      return liveSessionsOf('listUser', userId)
    },
  }
}
