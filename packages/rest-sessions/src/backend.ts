import {
  alnum64IdFormat,
  type ChangeSet,
  isPlainObject,
  type SessionBackend,
  SessionBackendError,
  SessionConfigError,
  type SessionLogger,
  type SessionRecord,
  SessionTimeoutError,
} from '@sessionbridge/core'
import { RestSessionsAnonymousError, RestSessionsHttpError } from './errors.ts'
import { fetchTransport, type Transport } from './transport.ts'
import { decodeValue, encodeValue } from './values.ts'

/** Options of `restSessionsBackend`. */
export interface RestSessionsBackendOptions {
  /** Base URL of the service (the seed's `SESSION_URL`), e.g. `http://127.0.0.1:3000`. */
  url: string
  /** App name, 3-20 of [a-zA-Z0-9_-] (the seed's `SESSION_APP`). */
  app: string
  /** HTTP client. @default fetchTransport() */
  transport?: Transport
  /** Longest wait per call, ms, connection and body included. @default 2000 */
  timeout?: number
  /** The `ip` recorded with new sessions (required by the protocol, 1-39 chars). @default '0.0.0.0' */
  ip?: string
  /** Fixed ttl of new sessions, seconds (>= 10). @default derived from the record's expiry */
  ttl?: number
  /** Send `newttl` on touch and save so a sessionbridge server moves the expiry exactly. @default true when ttl is unset */
  exactExpiry?: boolean
  /** Store objects, arrays and null as marked JSON strings; `false` refuses them with SessionDataError. @default true */
  encodeValues?: boolean
  /** User id under which sessions without a user are created; unset, such creates throw. @default undefined */
  anonymousId?: string
  /** Where undecodable sessions are reported. @default console */
  logger?: SessionLogger
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

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
  /** Distinct users active within `dt` seconds (`GET /:app/activity`). */
  activity(dt: number): Promise<number>
  /** The app's sessions active within `dt` seconds, most recent first (`GET /:app/soapp`); no tokens. */
  appSessions(dt: number): Promise<RestSessionInfo[]>
  /** A user's live sessions (`GET /:app/soid/:id`); the protocol lists no tokens. */
  userSessions(userId: string): Promise<RestSessionInfo[]>
}

const PKG = 'rest-sessions'
const APP = /^[a-zA-Z0-9_-]{3,20}$/
const LINE_BREAK = /[\n\r\u2028\u2029]/
const BODY_EXCERPT = 500
type Method = 'GET' | 'PUT' | 'POST' | 'DELETE'
// The original answers 500 invalidFormat for a token it does not accept: that is "no session".
const isInvalidToken = (status: number, body: unknown) =>
  status === 500 &&
  isPlainObject(body) &&
  body.name === 'invalidFormat' &&
  body.message === 'Invalid token format'

/**
 * A session backend on the rest-sessions REST service. The service issues the ids (64 x
 * [A-Za-z0-9] tokens), keeps sessions per user id, merges `set` bodies key by key (so concurrent
 * writers of different keys both survive) and slides each session's expiry on every read.
 */
export function restSessionsBackend(options: RestSessionsBackendOptions): RestSessionsBackend {
  if (!options || typeof options !== 'object') throw new SessionConfigError(PKG, 'url', 'missing %s')
  let base: URL
  try {
    base = new URL(options.url)
  } catch {
    throw new SessionConfigError(PKG, 'url', '%s must be an absolute http(s) URL')
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new SessionConfigError(PKG, 'url', '%s must be an http(s) URL')
  if (typeof options.app !== 'string' || !APP.test(options.app)) {
    throw new SessionConfigError(PKG, 'app', '%s must be 3-20 characters of [a-zA-Z0-9_-]')
  }
  const resolved = Object.freeze({
    root: `${base.origin}${base.pathname.replace(/\/+$/, '')}/${options.app}`,
    transport: options.transport ?? fetchTransport(),
    timeout: options.timeout ?? 2000,
    ip: options.ip ?? '0.0.0.0',
    ttl: options.ttl,
    exactExpiry: options.exactExpiry ?? options.ttl === undefined,
    encodeValues: options.encodeValues ?? true,
    anonymousId: options.anonymousId,
    logger: options.logger ?? console,
    now: options.now ?? Date.now,
  })
  const { root, transport, timeout, ip, ttl, exactExpiry, encodeValues, anonymousId, logger, now } = resolved
  if (!Number.isInteger(timeout) || timeout < 1)
    throw new SessionConfigError(PKG, 'timeout', '%s must be a positive integer (ms)')
  if (ip.length < 1 || ip.length > 39 || LINE_BREAK.test(ip))
    throw new SessionConfigError(PKG, 'ip', '%s must be 1-39 characters')
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl < 10)) {
    throw new SessionConfigError(PKG, 'ttl', '%s must be an integer >= 10 (seconds)')
  }
  if (anonymousId !== undefined && !validUserId(anonymousId)) {
    throw new SessionConfigError(PKG, 'anonymousId', '%s must be a non-empty string without line breaks')
  }

  /** One request; answers the status and parsed JSON, or throws a typed error. */
  const call = async (operation: string, method: Method, path: string, body?: unknown) => {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeout)
    let response: { status: number; body: string }
    try {
      response = await transport.request({
        method,
        url: `${root}${path}`,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      })
    } catch (error) {
      if (controller.signal.aborted) throw new SessionTimeoutError(PKG, operation, timeout)
      throw new SessionBackendError(
        PKG,
        operation,
        error instanceof Error ? errorText(error) : String(error),
        { cause: error },
      )
    } finally {
      clearTimeout(timer)
    }
    let json: unknown
    try {
      json = JSON.parse(response.body)
    } catch (error) {
      if (response.status >= 200 && response.status < 300) {
        throw new SessionBackendError(
          PKG,
          operation,
          `invalid JSON from the server (status ${response.status}): ${excerpt(response.body)}`,
          {
            cause: error,
          },
        )
      }
      json = undefined
    }
    if (isInvalidToken(response.status, json))
      return { found: false as const, json: {} as Record<string, unknown> }
    if (response.status < 200 || response.status >= 300)
      throw new RestSessionsHttpError(operation, response.status, excerpt(response.body))
    if (!isPlainObject(json))
      throw new SessionBackendError(PKG, operation, `unexpected answer: ${excerpt(response.body)}`)
    return { found: true as const, json }
  }

  const ttlFor = (expiresAt: number) => ttl ?? Math.max(10, Math.ceil((expiresAt - now()) / 1000))
  const newTtlQuery = (expiresAt: number) => (exactExpiry ? `?newttl=${ttlFor(expiresAt)}` : '')
  const tokenPath = (verb: string, id: string) => `/${verb}/${id}`
  const userPath = (verb: string, userId: string) => {
    if (!validUserId(userId))
      throw new SessionBackendError(PKG, verb, 'user id must be a non-empty string without line breaks')
    return `/${verb}/${encodeURIComponent(userId)}`
  }
  const encodeData = (data: Record<string, unknown>) => {
    const out: Record<string, unknown> = Object.create(null)
    for (const [key, value] of Object.entries(data)) {
      if (value !== undefined) out[key] = encodeValue(key, value, encodeValues)
    }
    return out
  }
  const decodeSession = (json: Record<string, unknown>, id: string): SessionRecord | null => {
    if (typeof json.id !== 'string') return null // `{}`: unknown, expired or killed
    const data: Record<string, unknown> = {}
    const d = isPlainObject(json.d) ? json.d : {}
    try {
      for (const [key, value] of Object.entries(d)) data[key] = decodeValue(value)
    } catch {
      logger.warn(
        `[sessionbridge/${PKG}] session ${id.slice(0, 6)}… holds a value that does not decode; treating it as no session`,
      )
      return null
    }
    const remaining = Number(json.ttl) - Number(json.idle)
    return { data, userId: json.id, expiresAt: now() + (Number.isFinite(remaining) ? remaining : 0) * 1000 }
  }
  const infos = (json: Record<string, unknown>) =>
    Array.isArray(json.sessions) ? (json.sessions as RestSessionInfo[]) : []
  const valid = (id: string) => alnum64IdFormat.validate(id)
  const touch = async (id: string, expiresAt: number) => {
    // A read slides the expiry by the session's ttl; `newttl` sets the ttl too (sessionbridge servers).
    if (!valid(id)) return false
    const answer = await call('touch', 'GET', `${tokenPath('get', id)}${newTtlQuery(expiresAt)}`)
    return answer.found && typeof answer.json.id === 'string'
  }

  return {
    name: PKG,
    idFormat: alnum64IdFormat,
    capabilities: {
      merge: true,
      issuesIds: true,
      anonymous: anonymousId !== undefined,
      destroyUser: true,
      listUser: false,
      clearExpired: false,
      update: false,
    },
    async load(id) {
      if (!valid(id)) return null
      const answer = await call('load', 'GET', tokenPath('get', id))
      return answer.found ? decodeSession(answer.json, id) : null
    },
    async create(_proposedId, record) {
      const userId = record.userId ?? anonymousId
      if (userId === undefined) throw new RestSessionsAnonymousError()
      const query = `?ip=${encodeURIComponent(ip)}&ttl=${ttlFor(record.expiresAt)}`
      const answer = await call(
        'create',
        'PUT',
        `${userPath('create', userId)}${query}`,
        encodeData(record.data),
      )
      const token = answer.json.token
      if (typeof token !== 'string' || !valid(token)) {
        throw new SessionBackendError(
          PKG,
          'create',
          `the server issued no usable token: ${excerpt(JSON.stringify(answer.json))}`,
        )
      }
      return token
    },
    async save(id, changes: ChangeSet, record) {
      if (!valid(id)) return false
      const body = encodeData(changes.set)
      for (const key of changes.deleted) body[key] = null
      if (Object.keys(body).length === 0) return touch(id, record.expiresAt)
      const answer = await call(
        'save',
        'POST',
        `${tokenPath('set', id)}${newTtlQuery(record.expiresAt)}`,
        body,
      )
      return answer.found && typeof answer.json.id === 'string'
    },
    touch,
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
      return infos((await call('appSessions', 'GET', `/soapp?dt=${checkDt(dt)}`)).json)
    },
    async activity(dt) {
      return Number((await call('activity', 'GET', `/activity?dt=${checkDt(dt)}`)).json.activity ?? 0)
    },
    async close() {
      await transport.close?.()
    },
  }
}

function validUserId(userId: unknown): userId is string {
  return typeof userId === 'string' && userId.length > 0 && !LINE_BREAK.test(userId)
}

function checkDt(dt: number): number {
  if (!Number.isSafeInteger(dt) || dt < 10) throw new RangeError('dt must be an integer >= 10 (seconds)')
  return dt
}

function excerpt(text: string): string {
  return text.length > BODY_EXCERPT ? `${text.slice(0, BODY_EXCERPT)}…` : text
}

/** undici and fetch hide the socket error in `cause`; name it in the message. */
function errorText(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause : null
  const code = cause && 'code' in cause ? ` (${String(cause.code)})` : ''
  return cause ? `${error.message}: ${cause.message}${code}` : error.message
}
