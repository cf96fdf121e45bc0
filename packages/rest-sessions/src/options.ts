import { SessionConfigError, type SessionLogger } from '@sessionbridge/core'
import { wallClock } from '@sessionbridge/core/adapter'
import { fetchTransport, type Transport } from './transport.ts'

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
  /** Send `newttl` on touch and save when the server offers it, so the expiry moves exactly. @default true when ttl is unset */
  exactExpiry?: boolean
  /** Store objects, arrays and null as marked JSON strings; `false` refuses them with SessionDataError. @default true */
  encodeValues?: boolean
  /** User id under which sessions without a user are created; unset, such creates throw. @default undefined */
  anonymousId?: string
  /** Where undecodable sessions are reported. @default console */
  logger?: SessionLogger
  /** Clock, epoch ms. @default wallClock */
  now?: () => number
}

/** The options once checked, with defaults applied. */
export interface ResolvedOptions {
  /** Base URL without a trailing slash; the discovery route hangs off it. */
  base: string
  /** `${base}/${app}`: the protocol's routes hang off it. */
  root: string
  transport: Transport
  timeout: number
  ip: string
  ttl: number | undefined
  exactExpiry: boolean
  encodeValues: boolean
  anonymousId: string | undefined
  logger: SessionLogger
  now: () => number
}

export const PKG = 'rest-sessions'
const APP = /^[a-zA-Z0-9_-]{3,20}$/
const LINE_BREAK = /[\n\r\u2028\u2029]/

export function validUserId(userId: unknown): userId is string {
  return typeof userId === 'string' && userId.length > 0 && !LINE_BREAK.test(userId)
}

/** Checks the options once, at startup; misconfiguration throws `SessionConfigError` naming the option. */
export function resolveOptions(options: RestSessionsBackendOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') throw new SessionConfigError(PKG, 'url', 'missing %s')
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw new SessionConfigError(PKG, 'url', '%s must be an absolute http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SessionConfigError(PKG, 'url', '%s must be an http(s) URL')
  if (typeof options.app !== 'string' || !APP.test(options.app)) {
    throw new SessionConfigError(PKG, 'app', '%s must be 3-20 characters of [a-zA-Z0-9_-]')
  }
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  const resolved: ResolvedOptions = Object.freeze({
    base,
    root: `${base}/${options.app}`,
    transport: options.transport ?? fetchTransport(),
    timeout: options.timeout ?? 2000,
    ip: options.ip ?? '0.0.0.0',
    ttl: options.ttl,
    exactExpiry: options.exactExpiry ?? options.ttl === undefined,
    encodeValues: options.encodeValues ?? true,
    anonymousId: options.anonymousId,
    logger: options.logger ?? console,
    now: options.now ?? wallClock,
  })
  const { timeout, ip, ttl, anonymousId } = resolved
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
  return resolved
}
