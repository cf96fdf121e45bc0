import {
  defaultIdFormat,
  type IdFormat,
  jsonCodec,
  plainData,
  type SessionBackend,
  SessionBackendError,
  type SessionCodec,
  SessionConfigError,
  SessionConflictError,
  type SessionData,
  SessionDataError,
  type SessionRecord,
} from '@sessionbridge/core'
import {
  backendCall,
  backendError,
  type ChangeSet,
  changesKey,
  cookieSafeIds,
  isPlainObject,
  jsonText,
  keepingAppErrors,
  keepSessionErrors,
  parseJson,
  type UpdateOptions,
  type UpdateResult,
  utf8Overflow,
  wallClock,
} from '@sessionbridge/core/adapter'
import type { MemcachedClientAdapter } from './adapter.ts'
import { createMemcachedClient, type MemcachedClientOptions } from './client.ts'
import { checkPrefix, exptimeFor, isValidKey, MAX_KEY_BYTES } from './keys.ts'
import { decodeStoredSession, encodeStoredSession } from './record.ts'
import { memcachedUserIndex } from './user-index.ts'

const PKG = 'memcached'

/** Options of `memcachedBackend`. Give `servers` (built-in client) or `client` (your own). */
export interface MemcachedBackendOptions extends Partial<MemcachedClientOptions> {
  /** A client you bring, wrapped as a `MemcachedClientAdapter`; never closed by the backend. */
  client?: MemcachedClientAdapter
  /** Prepended to every session id to form the key. @default 'sb:sess:' */
  prefix?: string
  /** Id format. @default the codec's, else djangoIdFormat (32 x [a-z0-9]) */
  idFormat?: IdFormat
  /** Turns session data into the stored text. @default jsonCodec */
  codec?: SessionCodec
  /** Writes tried per `save` when concurrent writers keep changing the record (CAS conflicts). @default 50 */
  casAttempts?: number
  /**
   * Seconds to slide the expiry to on every `load`, in the same round trip (`mg ... T`); `false`
   * leaves expiry moves to the lifecycle's `touch`. Only for apps whose sessions share one max age.
   * @default false
   */
  touchOnLoad?: number | false
  /** The data key holding the user id (the manager's `userIdKey`). @default '_auth_user_id' */
  userIdKey?: string
  /**
   * Keep a per-user index (`<prefix>user:<user id>`, the ids of the user's sessions) for
   * `destroyUser` / `listUser` ("log out everywhere"). Costs 2 round trips per login (a create or
   * save that sets the user), none on other requests. @default true
   */
  userIndex?: boolean
  /**
   * Seconds an index item lives after its last login; `0` = it never expires (memcached's LRU
   * reclaims it). Set it to the manager's `absoluteMaxAge` when you use one: no session outlives
   * that. A shorter value lets a session whose expiry slides past it escape `destroyUser`.
   * @default 0
   */
  userIndexTtl?: number
  /** Where warnings go (undecodable records). @default console */
  logger?: { warn(message: string): void }
}

/** The memcached backend: the core contract plus a load that also moves the expiry. */
export interface MemcachedBackend extends SessionBackend {
  /** `load` and `touch(id, expiresAt)` in one round trip (`mg <key> v c t T<exptime>`). */
  loadAndTouch(id: string, expiresAt: number): Promise<SessionRecord | null>
  /** The client in use (the built-in one, or yours). */
  readonly client: MemcachedClientAdapter
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The stored data with a change set applied, except where the stored value is newer than the one
 * the request read (`changes.read`): a key changed by another writer since this request loaded
 * it keeps the stored value, so a retried save never puts back an older value. Keys the request
 * wrote blind (without loading) are applied as they are.
 */
export function mergeNewer(stored: SessionData, changes: ChangeSet): SessionData {
  const data: SessionData = plainData(stored)
  const newer = (key: string) => {
    const read = changes.read
    if (!read || !Object.hasOwn(read, key)) return false
    const now = Object.hasOwn(stored, key) ? JSON.stringify(stored[key]) : null
    return now !== read[key]
  }
  for (const key of changes.deleted) if (!newer(key)) delete data[key]
  for (const [key, value] of Object.entries(changes.set)) {
    // `plainData` inherits nothing: a plain store keeps a key named `__proto__` as data.
    if (!newer(key)) data[key] = value
  }
  return data
}

/**
 * Sessions in memcached. Create is add-only (a taken id answers `null`, the lifecycle retries);
 * save merges the change set under a CAS loop, so concurrent writers of different keys all
 * survive; save and touch never recreate a missing record. Keep sessions in a memcached cluster
 * of their own: a flush or restart of a shared cache would log everyone out.
 */
export function memcachedBackend(options: MemcachedBackendOptions): MemcachedBackend {
  if (!options || (!options.client && !options.servers)) {
    throw new SessionConfigError(PKG, 'servers', 'missing %s (or "client")')
  }
  if (options.client && options.servers) {
    throw new SessionConfigError(PKG, 'client', 'give %s or "servers", not both')
  }
  const codec = options.codec ?? jsonCodec
  const idFormat = options.idFormat ?? codec.idFormat ?? defaultIdFormat
  const prefix = checkPrefix(PKG, 'prefix', options.prefix ?? 'sb:sess:', idFormat.generate().length)
  const casAttempts = options.casAttempts ?? 50
  if (!Number.isInteger(casAttempts) || casAttempts < 1) {
    throw new SessionConfigError(PKG, 'casAttempts', '%s must be a positive whole number')
  }
  const touchOnLoad = options.touchOnLoad ?? false
  if (touchOnLoad !== false && (!Number.isInteger(touchOnLoad) || touchOnLoad < 1)) {
    throw new SessionConfigError(PKG, 'touchOnLoad', '%s must be a positive number of seconds or false')
  }
  const userIdKey = options.userIdKey ?? '_auth_user_id'
  const userIndexTtl = options.userIndexTtl ?? 0
  if (!Number.isInteger(userIndexTtl) || userIndexTtl < 0) {
    throw new SessionConfigError(
      PKG,
      'userIndexTtl',
      '%s must be a whole number of seconds (0: never expires)',
    )
  }
  const logger = options.logger ?? console
  const now = options.now ?? wallClock
  const owned = !options.client
  const client: MemcachedClientAdapter =
    options.client ?? createMemcachedClient({ ...options, servers: options.servers! })
  const maxValueBytes = client.maxValueBytes ?? options.maxValueBytes ?? 1024 * 1024 - 512

  // An id of a format over a cookie-safe alphabet is printable ASCII already (the prefix is checked
  // above): the key needs its length checked, not each of its characters (one string made of two,
  // walked through a character at a time: about 1.9k instructions a call).
  const printableIds = cookieSafeIds(idFormat)
  const keyOf = (id: string): string | null => {
    if (typeof id !== 'string' || !idFormat.validate(id)) return null
    const key = prefix + id
    const valid = printableIds ? key.length <= MAX_KEY_BYTES : isValidKey(key)
    return valid ? key : null
  }
  const index =
    options.userIndex === false
      ? null
      : memcachedUserIndex({
          client,
          prefix,
          keyOf,
          casAttempts,
          now,
          exptime: () => (userIndexTtl === 0 ? 0 : exptimeFor(now() + userIndexTtl * 1000, now())),
        })
  // Errors the backend raises on purpose (backend, data, conflict) pass its I/O wrapper as they are.
  const guarded = <T>(operation: string, fn: () => Promise<T>): Promise<T> =>
    backendCall(PKG, operation, fn, keepSessionErrors)
  // The default codec is encoded inline, as it is decoded: a save makes no promise for it.
  const encode = (userId: string | null, data: SessionData): string | Promise<string> =>
    codec === jsonCodec
      ? sized(encodeStoredSession(userId, jsonText(data)))
      : codec.encode(data).then((payload) => sized(encodeStoredSession(userId, payload)))
  const sized = (value: string): string => {
    // Most sessions are answered from their length (the text is a cons string here, walked once
    // more by the client's own encoding).
    const bytes = utf8Overflow(value, maxValueBytes)
    if (bytes !== null) {
      throw new SessionDataError(
        PKG,
        `session of ${bytes} bytes exceeds maxValueBytes (${maxValueBytes} bytes)`,
      )
    }
    return value
  }
  const warnUndecodable = () =>
    logger.warn(`[sessionbridge/${PKG}] session data does not decode; treating it as no session`)
  type Decoded = { userId: string | null; data: SessionData } | null
  const checked = (userId: string | null, data: SessionData | null): Decoded => {
    if (data) return { userId, data }
    warnUndecodable()
    return null
  }
  // The default codec is decoded inline: a load makes no promise for it.
  const decode = (value: string): Decoded | Promise<Decoded> => {
    const stored = decodeStoredSession(value)
    if (!stored) return checked(null, null)
    // A codec that rejects is a payload that does not decode: no session, as in Django, not a 503.
    if (codec !== jsonCodec)
      return codec.decode(value.slice(stored.payloadStart)).then(
        (data) => checked(stored.userId, data),
        () => checked(stored.userId, null),
      )
    let data: unknown
    try {
      data = parseJson(value, stored.payloadStart)
    } catch {
      data = null
    }
    return checked(stored.userId, isPlainObject(data) ? data : null)
  }
  // A load maps its errors in its own `catch` (as `guarded` would): no `.catch` promise per read.
  // `touchAt`: the expiry a read moves the item to; `undefined`: `touchOnLoad`'s, worked out here.
  const read = async (id: string, touchAt?: number | null): Promise<SessionRecord | null> => {
    try {
      const touch =
        touchAt !== undefined ? touchAt : touchOnLoad === false ? null : now() + touchOnLoad * 1000
      const key = keyOf(id)
      if (!key) return null
      const started = now()
      const item = await client.get(key, touch === null ? undefined : { touch: exptimeFor(touch, started) })
      if (!item) return null
      const pending = decode(item.value)
      const record = pending instanceof Promise ? await pending : pending
      if (!record) return null
      const expiresAt = touch ?? (item.ttl < 0 ? Number.MAX_SAFE_INTEGER : started + item.ttl * 1000)
      return { data: record.data, expiresAt, userId: record.userId, version: item.cas }
    } catch (error) {
      throw backendError(PKG, 'load', error, keepSessionErrors)
    }
  }

  /**
   * `update()`: a CAS loop on the whole item. Read (`mg` with CAS), run `fn`, write only if the
   * CAS still matches; else read again after a short random pause. Never writes a value computed
   * from a stale read. Round trips: 2 per attempt.
   */
  const casUpdate = async (
    id: string,
    key: string,
    fn: (current: unknown) => unknown,
    options: UpdateOptions,
  ): Promise<UpdateResult | null> => {
    const itemKey = keyOf(id)
    if (!itemKey) return null
    for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
      const item = await client.get(itemKey)
      if (!item) return null
      const decoded = await decode(item.value)
      if (!decoded) return null
      const value = fn(Object.hasOwn(decoded.data, key) ? decoded.data[key] : undefined)
      const changes: ChangeSet =
        value === undefined ? { set: {}, deleted: [key] } : { set: { [key]: value }, deleted: [] }
      const data = mergeNewer(decoded.data, changes)
      const encoded = await encode(decoded.userId, data)
      const result = await client.set(itemKey, encoded, {
        exptime: exptimeFor(options.expiresAt, now()),
        cas: item.cas,
      })
      if (result === 'stored') {
        const after = (await codec.decode(encoded.slice(decodeStoredSession(encoded)!.payloadStart)))!
        return { value: Object.hasOwn(after, key) ? after[key] : undefined, data: after }
      }
      if (result === 'not_found' || result === 'not_stored') return null
      if (attempt < options.maxAttempts) await sleep(Math.random() * Math.min(2 ** attempt, 25))
    }
    throw new SessionConflictError(PKG, key, options.maxAttempts)
  }

  // A save maps its errors in its own `catch` (as `guarded` would): no `.catch` promise per write.
  const saveRecord = async (id: string, changes: ChangeSet, record: SessionRecord): Promise<boolean> => {
    try {
      const key = keyOf(id)
      if (!key) return false
      const userChanged = changesKey(changes, userIdKey)
      if (index && userChanged && record.userId !== null) await index.add(record.userId, id)
      if (record.version !== undefined) {
        // The request loaded this item: if nobody wrote since (same CAS), its view is the merge,
        // and one conditional write saves the extra read.
        const encoded = encode(record.userId, record.data)
        const value = typeof encoded === 'string' ? encoded : await encoded
        const result = await client.set(key, value, {
          exptime: exptimeFor(record.expiresAt, now()),
          cas: record.version,
        })
        if (result === 'stored') return true
        if (result === 'not_found' || result === 'not_stored') return false
      }
      for (let attempt = 1; attempt <= casAttempts; attempt++) {
        const item = await client.get(key)
        if (!item) return false
        const stored = decodeStoredSession(item.value)
        const current = stored ? await codec.decode(item.value.slice(stored.payloadStart)) : null
        if (!stored || !current) {
          warnUndecodable()
          return false // never overwrite what we cannot read
        }
        const data = mergeNewer(current, changes)
        const userId = userChanged ? record.userId : stored.userId
        const value = await encode(userId, data)
        const exptime = exptimeFor(record.expiresAt, now())
        const result = await client.set(key, value, { exptime, cas: item.cas })
        if (result === 'stored') return true
        if (result === 'not_found' || result === 'not_stored') return false
        // `exists`: another writer got in between; read again after a short random pause.
        await sleep(Math.random() * Math.min(2 ** attempt, 25))
      }
      // Not an outage: other writers kept winning. 409, so the client knows nothing was saved.
      throw new SessionConflictError(
        PKG,
        Object.keys(changes.set).concat(changes.deleted).join(','),
        casAttempts,
      )
    } catch (error) {
      throw backendError(PKG, 'save', error, keepSessionErrors)
    }
  }

  const backend: MemcachedBackend = {
    name: PKG,
    idFormat,
    client,
    capabilities: {
      merge: true,
      issuesIds: false,
      anonymous: true,
      destroyUser: index !== null,
      listUser: index !== null,
      clearExpired: false,
      update: true,
      readBasis: true, // mergeNewer: a retried save keeps what another writer changed since the load
    },
    load(id) {
      return read(id)
    },
    loadAndTouch(id, expiresAt) {
      return read(id, expiresAt)
    },
    create(proposedId, record) {
      return guarded('create', async () => {
        const key = keyOf(proposedId)
        if (!key) throw new SessionDataError(PKG, 'the proposed id does not fit the id format or key rules')
        const value = await encode(record.userId, record.data)
        // Listed first: a session with a user is never live without its index entry.
        if (index && record.userId !== null) await index.add(record.userId, proposedId)
        const result = await client.set(key, value, {
          exptime: exptimeFor(record.expiresAt, now()),
          mode: 'add',
        })
        if (result === 'stored') return proposedId
        if (result === 'not_stored' || result === 'exists') return null
        throw new SessionBackendError(PKG, 'create', `add answered ${result}`)
      })
    },
    save(id: string, changes: ChangeSet, record: SessionRecord) {
      return saveRecord(id, changes, record)
    },
    update(id, key, fn, updateOptions) {
      return keepingAppErrors(fn, (guardedFn) =>
        guarded('update', () => casUpdate(id, key, guardedFn, updateOptions)),
      )
    },
    touch(id, expiresAt) {
      return guarded('touch', async () => {
        const key = keyOf(id)
        return key ? client.touch(key, exptimeFor(expiresAt, now())) : false
      })
    },
    destroy(id) {
      return guarded('destroy', async () => {
        const key = keyOf(id)
        if (key) await client.delete(key)
      })
    },
    async close() {
      if (owned) await client.close?.()
    },
  }
  if (!index) return backend
  return {
    ...backend,
    destroyUser: (userId) => guarded('destroyUser', () => index.destroy(String(userId))),
    listUser: (userId) => guarded('listUser', () => index.list(String(userId))),
  }
}
