import {
  defaultIdFormat,
  type IdFormat,
  jsonCodec,
  type SessionBackend,
  type SessionCodec,
  SessionConfigError,
  type SessionLogger,
  type SessionRecord,
} from '@sessionbridge/core'
import { type ChangeSet, msText, wallClock } from '@sessionbridge/core/adapter'
import { type RedisCommands, resolveCommands } from './commands.ts'
import { DATA, hashCodec, uidMarker, userOfMarker } from './hash.ts'
import { PKG, redisContext } from './io.ts'
import { redisLoad } from './load.ts'
import { CREATE, DESTROY, DESTROY_IF_OWNED, SAVE, SCRIPT_ARGS_AT, TOUCH } from './scripts.ts'
import { redisUpdate } from './update.ts'
import { userIndex } from './user-index.ts'

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
  /** Clock, epoch ms. @default wallClock */
  now?: () => number
}

/** Validates the options once, into a new frozen object. */
function resolveOptions(options: RedisBackendOptions) {
  if (!options || typeof options !== 'object') throw new SessionConfigError(PKG, 'client', 'missing %s')
  const commands = resolveCommands(options.client)
  const prefix = options.prefix ?? 'sb:sess:'
  if (typeof prefix !== 'string') throw new SessionConfigError(PKG, 'prefix', '%s must be a string')
  const codec = options.codec ?? jsonCodec
  if (typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new SessionConfigError(PKG, 'codec', '%s must have encode() and decode()')
  }
  return Object.freeze({
    commands,
    prefix,
    codec,
    idFormat: options.idFormat ?? codec.idFormat ?? defaultIdFormat,
    userIndex: options.userIndex ?? true,
    logger: options.logger ?? console,
    now: options.now ?? wallClock,
  })
}

/**
 * A Redis session store. Each session is one hash (`d:<key>` per data key, plus its expiry and
 * user), so `save` merges a change set atomically in one Lua script and concurrent writers of
 * different keys all survive; `update` is a compare-and-set of one field. Every command touches
 * one key: Redis Cluster works unchanged. The parts: `hash.ts` (the stored layout), `user-index.ts`
 * (log out everywhere), `update.ts` (read-modify-write), `scripts.ts` (the Lua).
 */
export function redisBackend(options: RedisBackendOptions): SessionBackend {
  const { idFormat, ...resolved } = resolveOptions(options)
  const ctx = redisContext(resolved)
  const { sessionKey, script, scriptFailed, send, codec, commands } = ctx
  const hash = hashCodec(ctx)
  const index = resolved.userIndex ? userIndex(ctx) : null
  // Lua can check stored values for decodability only when they are our JSON.
  const checkJson = codec === jsonCodec ? '1' : '0'
  // The header after the expiry for the commonest save, written once: each piece joined costs a
  // string (about 100 instructions).
  const oneAnonymousValue = ` ${checkJson} 1 0 -\n`

  const backend: SessionBackend = {
    name: PKG,
    idFormat,
    capabilities: {
      merge: true,
      issuesIds: false,
      anonymous: true,
      destroyUser: index !== null,
      listUser: index !== null,
      clearExpired: false,
      update: true,
    },

    load: (() => {
      const read = redisLoad(ctx, hash)
      return (id) => (idFormat.validate(id) ? read(id) : Promise.resolve(null))
    })(),

    async create(proposedId, record) {
      if (!idFormat.validate(proposedId)) return null
      const indexing = index !== null && record.userId !== null
      const score = indexing ? index.indexScore(record.expiresAt) : null
      const head = [String(record.expiresAt), uidMarker(record.userId), score === null ? '' : String(score)]
      const encoded = hash.encodeFields(record.data, head)
      const args = encoded instanceof Promise ? await encoded : encoded
      // The index entry travels beside the script (one round trip) and is taken back on a collision.
      const [created] = await Promise.all([
        script('create', CREATE, sessionKey(proposedId), args),
        score !== null ? index!.add('create', record.userId!, proposedId, score) : null,
      ])
      if (created === 1) return proposedId
      if (indexing) await index.remove('create', record.userId!, proposedId)
      return null
    },

    async save(id: string, changes: ChangeSet, record: SessionRecord) {
      if (!idFormat.validate(id)) return false
      // EVALSHA's arguments: a header ("<expiresAt> <check flag> <named values> <pairs> <uid
      // marker>") and the first value that names its field as one (scripts.ts SAVE), the other
      // such values, the field/value pairs, then the deleted fields.
      const key = sessionKey(id)
      const sent = SAVE.commandWith(key, '')
      const encoded = hash.encodeSaved(changes.set, sent)
      const named = typeof encoded === 'number' ? encoded : await encoded
      const pairs = (sent.length - SCRIPT_ARGS_AT - Math.max(named, 1)) / 2
      const rest =
        named === 1 && pairs === 0 && record.userId === null
          ? oneAnonymousValue
          : ` ${checkJson} ${named} ${pairs} ${uidMarker(record.userId)}\n`
      sent[SCRIPT_ARGS_AT] = msText(record.expiresAt) + rest + sent[SCRIPT_ARGS_AT]
      for (const field of changes.deleted) sent.push(`${DATA}${field}`)
      let reply: unknown
      try {
        reply = await commands.send(key, sent)
      } catch (error) {
        reply = await scriptFailed('save', SAVE, key, sent.slice(SCRIPT_ARGS_AT), error)
      }
      // 1: anonymous before and after, nothing for the index to hear.
      if (reply === 1) return true
      if (typeof reply !== 'string') return false
      // "<index score or nothing> <previous uid marker>"
      const space = reply.indexOf(' ')
      const known = reply.slice(0, space)
      const previous = reply.slice(space + 1)
      const previousUser = userOfMarker(previous)
      if (index && previousUser !== null && previousUser !== record.userId) {
        await index.remove('save', previousUser, id)
      }
      if (index && record.userId !== null)
        await index.keepIndexed('save', id, record.userId, record.expiresAt, known)
      return true
    },

    update: (() => {
      const run = redisUpdate(ctx, hash, index)
      // Not async: returning run's promise from an async function would wrap it in another.
      return (id, key, fn, updateOptions) =>
        idFormat.validate(id) ? run(id, key, fn, updateOptions) : Promise.resolve(null)
    })(),

    async touch(id, expiresAt) {
      if (!idFormat.validate(id)) return false
      const reply = await script('touch', TOUCH, sessionKey(id), [String(expiresAt)])
      if (!Array.isArray(reply)) return false
      const [marker, known] = reply as unknown[]
      const userId = userOfMarker(marker)
      if (index && userId !== null) await index.keepIndexed('touch', id, userId, expiresAt, known)
      return true
    },

    async destroy(id) {
      if (!idFormat.validate(id)) return
      if (!index) {
        await send('destroy', sessionKey(id), ['DEL', sessionKey(id)])
        return
      }
      const userId = userOfMarker(await script('destroy', DESTROY, sessionKey(id), []))
      if (userId !== null) await index.remove('destroy', userId, id)
    },
  }
  if (!index) return backend
  return {
    ...backend,
    async destroyUser(userId: string) {
      const ids = await index.liveSessionsOf('destroyUser', userId)
      const deleted = await Promise.all(
        ids.map((id) => script('destroyUser', DESTROY_IF_OWNED, sessionKey(id), [uidMarker(userId)])),
      )
      if (ids.length > 0)
        await send('destroyUser', ctx.indexKey(userId), ['ZREM', ctx.indexKey(userId), ...ids])
      return deleted.filter((n) => n === 1).length
    },
    async listUser(userId: string) {
      return index.liveSessionsOf('listUser', userId)
    },
  }
}
