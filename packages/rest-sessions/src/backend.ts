import {
  alnum64IdFormat,
  type BackendCapabilities,
  type SessionBackend,
  SessionBackendError,
} from '@sessionbridge/core'
import type { ChangeSet } from '@sessionbridge/core/adapter'
import { extensionDiscovery, type ServerExtensions } from './discovery.ts'
import { RestSessionsAnonymousError, RestSessionsUnsupportedError } from './errors.ts'
import { createCall, excerpt } from './http.ts'
import { PKG, type RestSessionsBackendOptions, resolveOptions, validUserId } from './options.ts'
import { recordCodec } from './records.ts'
import { updateKey } from './update.ts'

export type { RestSessionsBackendOptions } from './options.ts'

/** A session as the service lists it (soid, soapp). */
export interface RestSessionInfo {
  id: string
  r: number
  w: number
  ttl: number
  idle: number
  ip: string
  d?: Record<string, unknown>
}

/** The backend, plus the service's own listings. */
export interface RestSessionsBackend extends SessionBackend {
  /**
   * Asks the server once which extensions it offers; `capabilities` are final afterwards. The
   * first `load`, `save`, `touch` or `update` asks too.
   */
  ready(): Promise<void>
  /**
   * Always present: against a server without the `update` extension (the original) it throws
   * `RestSessionsUnsupportedError` and `capabilities.update` is false.
   */
  update: NonNullable<SessionBackend['update']>
  /** The server's extensions once `ready()` has resolved, else `null`. */
  readonly extensions: ServerExtensions | null
  /** Distinct users active within `dt` seconds (`GET /:app/activity`). */
  activity(dt: number): Promise<number>
  /** The app's sessions active within `dt` seconds, most recent first (`GET /:app/soapp`); no tokens. */
  appSessions(dt: number): Promise<RestSessionInfo[]>
  /** A user's live sessions (`GET /:app/soid/:id`); the protocol lists no tokens. */
  userSessions(userId: string): Promise<RestSessionInfo[]>
}

/** What holds against any server, before the server has said what it offers. */
const capabilitiesOf = (extensions: ServerExtensions | null, anonymous: boolean, exactExpiry: boolean) =>
  Object.freeze({
    merge: extensions?.merge ?? false,
    issuesIds: true,
    anonymous,
    destroyUser: true,
    listUser: false,
    clearExpired: false,
    update: extensions?.update ?? false,
    fixedTtl: !(extensions?.newttl && exactExpiry),
  } satisfies BackendCapabilities)

/**
 * A session backend on the rest-sessions REST service. The service issues the ids (64 x
 * [A-Za-z0-9] tokens), keeps sessions per user id and slides each session's expiry on every
 * read. What else it can do (atomic merge, ttl change, same-key update) is asked once
 * (`ready()`); a server that does not say is taken for the original and none of it is used.
 */
export function restSessionsBackend(options: RestSessionsBackendOptions): RestSessionsBackend {
  const resolved = resolveOptions(options)
  const { transport, ip, ttl, exactExpiry, anonymousId, now } = resolved
  const app = options.app
  const call = createCall(resolved)
  const discovery = extensionDiscovery(call)
  const codec = recordCodec(resolved)
  let capabilities: BackendCapabilities = capabilitiesOf(null, anonymousId !== undefined, exactExpiry)

  const ready = async () => {
    const first = discovery.known() === null
    const extensions = await discovery.get()
    if (first) capabilities = capabilitiesOf(extensions, anonymousId !== undefined, exactExpiry)
  }
  const ttlFor = (expiresAt: number) => ttl ?? Math.max(10, Math.ceil((expiresAt - now()) / 1000))
  /**
   * `newttl` moves the expiry exactly, where the server offers it. `null`, a kept expiry
   * (`ChangeSet.expiryKept`), sends none: the server slides its own by the ttl it has.
   */
  const newttl = (expiresAt: number | null) =>
    expiresAt !== null && exactExpiry ? `?newttl=${ttlFor(expiresAt)}` : ''
  const ttlQuery = async (expiresAt: number | null) => {
    await ready()
    return discovery.known()?.newttl ? newttl(expiresAt) : ''
  }
  const tokenPath = (verb: string, id: string) => `/${app}/${verb}/${id}`
  const userPath = (verb: string, userId: string) => {
    if (!validUserId(userId))
      throw new SessionBackendError(PKG, verb, 'user id must be a non-empty string without line breaks')
    return `/${app}/${verb}/${encodeURIComponent(userId)}`
  }
  const infos = (json: Record<string, unknown>) =>
    Array.isArray(json.sessions) ? (json.sessions as RestSessionInfo[]) : []
  const valid = (id: string) => alnum64IdFormat.validate(id)
  const isSession = (answer: { found: boolean; json: Record<string, unknown> }) =>
    answer.found && typeof answer.json.id === 'string'
  /** A read slides the expiry by the session's ttl; `newttl` sets the ttl too (none for `null`). */
  const touch = async (id: string, expiresAt: number | null) => {
    if (!valid(id)) return false
    return isSession(await call('touch', 'GET', `${tokenPath('get', id)}${await ttlQuery(expiresAt)}`))
  }

  return {
    name: PKG,
    idFormat: alnum64IdFormat,
    get capabilities() {
      return capabilities
    },
    get extensions() {
      return discovery.known()
    },
    ready,
    async load(id) {
      if (!valid(id)) return null
      // The first call of an instance also learns the server's extensions, so the capabilities
      // are final after any call; a failed ask does not fail the read (it is asked again later).
      if (discovery.known() === null) await ready().catch(() => undefined)
      const answer = await call('load', 'GET', tokenPath('get', id))
      return answer.found ? codec.decodeSession(answer.json, id) : null
    },
    async create(_proposedId, record) {
      const userId = record.userId ?? anonymousId
      if (userId === undefined) throw new RestSessionsAnonymousError()
      const query = `?ip=${encodeURIComponent(ip)}&ttl=${ttlFor(record.expiresAt)}`
      const path = `${userPath('create', userId)}${query}`
      const answer = await call('create', 'PUT', path, codec.encodeData(record.data))
      const token = answer.json.token
      if (typeof token !== 'string' || !valid(token)) {
        const body = excerpt(JSON.stringify(answer.json))
        throw new SessionBackendError(PKG, 'create', `the server issued no usable token: ${body}`)
      }
      return token
    },
    async save(id, changes: ChangeSet, record) {
      // Only the changed keys, on every server: on the original, whose set reads, merges and
      // writes back, that keeps the window in which a parallel writer's keys can be lost short.
      if (!valid(id)) return false
      const body = codec.encodeData(changes.set)
      for (const key of changes.deleted) body[key] = null
      const expiresAt = changes.expiryKept ? null : record.expiresAt
      if (Object.keys(body).length === 0) return touch(id, expiresAt)
      const ttl = await ttlQuery(expiresAt)
      // Where the server offers it, a stored value this client cannot decode is never overwritten:
      // the server writes nothing and the save answers "gone", as on every other backend.
      const guard = discovery.known()?.guard ? `${ttl ? '&' : '?'}guard=1` : ''
      const answer = await call('save', 'POST', `${tokenPath('set', id)}${ttl}${guard}`, body)
      if (answer.json.undecodable === true) {
        resolved.logger.warn(
          `[sessionbridge/${PKG}] session ${id.slice(0, 6)}… holds a value that does not decode; not overwriting it`,
        )
        return false
      }
      return isSession(answer)
    },
    touch,
    async update(id, key, fn, updateOptions) {
      await ready()
      if (!discovery.known()?.update) throw new RestSessionsUnsupportedError('update', resolved.base)
      if (!valid(id)) return null
      const ctx = { call, codec, app, encodeValues: resolved.encodeValues, ttlQuery: newttl }
      return updateKey(ctx, id, key, fn, updateOptions)
    },
    async destroy(id) {
      if (valid(id)) await call('destroy', 'DELETE', tokenPath('kill', id))
    },
    async destroyUser(userId) {
      const answer = await call('destroyUser', 'DELETE', userPath('killsoid', userId))
      return Number(answer.json.kill ?? 0)
    },
    async userSessions(userId) {
      return infos((await call('userSessions', 'GET', userPath('soid', userId))).json)
    },
    async appSessions(dt) {
      return infos((await call('appSessions', 'GET', `/${app}/soapp?dt=${checkDt(dt)}`)).json)
    },
    async activity(dt) {
      const answer = await call('activity', 'GET', `/${app}/activity?dt=${checkDt(dt)}`)
      return Number(answer.json.activity ?? 0)
    },
    async close() {
      await transport.close?.()
    },
  }
}

function checkDt(dt: number): number {
  if (!Number.isSafeInteger(dt) || dt < 10) throw new RangeError('dt must be an integer >= 10 (seconds)')
  return dt
}
