import { Buffer } from 'node:buffer'
import { SessionBackendError, SessionConfigError, SessionDataError } from '@sessionbridge/core'
import { wallClock } from '@sessionbridge/core/adapter'
import type {
  DeleteResult,
  MemcachedClientAdapter,
  MemcachedItem,
  SetOptions,
  StoreResult,
} from './adapter.ts'
import { KetamaRing } from './ketama.ts'
import { isValidKey } from './keys.ts'
import { MemcachedNode } from './node.ts'
import type { MetaReply, Reply } from './protocol.ts'

const PKG = 'memcached'

/** A server: `"host:port"`, or an object with an optional ketama weight. */
export type MemcachedServer = string | { host: string; port?: number; weight?: number }

/** Options of `createMemcachedClient`. */
export interface MemcachedClientOptions {
  /** The servers of the session cluster (not your general cache). */
  servers: MemcachedServer[]
  /** Most sockets per server; commands are pipelined on each. @default 4 */
  maxConnections?: number
  /** Milliseconds to open a connection. @default 1000 */
  connectTimeout?: number
  /** Milliseconds a command may wait for its reply. @default 1000 */
  timeout?: number
  /** Consecutive connection failures that mark a server dead. @default 2 */
  failureThreshold?: number
  /** Milliseconds before a dead server is tried again; doubles per failed retry. @default 1000 */
  retryDelay?: number
  /**
   * Ceiling of the retry delay, ms. One probe a second costs nothing, and a server that returns is
   * used again within about this long (a 30 s ceiling kept apps failing long after an outage).
   * @default 1000
   */
  maxRetryDelay?: number
  /**
   * Send the keys of a dead server to the next server on the ring. Off by default: when the server
   * returns still holding its old items, a session changed or logged out on the stand-in would come
   * back as it was. Turn on only for caches that may lose or revert data. @default false
   */
  failover?: boolean
  /**
   * Largest value written, bytes: the server's item size (`-I`, 1 MiB by default) less room for
   * the item header and key. Larger values throw `SessionDataError`. @default 1_048_064
   */
  maxValueBytes?: number
  /** Clock, epoch ms. @default wallClock */
  now?: () => number
}

/** The built-in meta-protocol client: the adapter interface plus cluster introspection. */
export interface MemcachedClient extends MemcachedClientAdapter {
  readonly maxValueBytes: number
  /** `host:port` of the server a key maps to now (after failover), for tests and diagnostics. */
  serverFor(key: string): string
  /** Sends `mn` (a no-op barrier) to every available server; true for each that answered. */
  ping(): Promise<Record<string, boolean>>
  close(): Promise<void>
}

function positive(option: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < (allowZero ? 0 : 1) || !Number.isInteger(value)) {
    throw new SessionConfigError(
      PKG,
      option,
      `%s must be a ${allowZero ? 'non-negative' : 'positive'} whole number`,
    )
  }
  return value
}

function parseServer(server: MemcachedServer): { host: string; port: number; weight: number } {
  if (typeof server === 'string') {
    const match = /^\[?([^\]\s]+?)\]?(?::(\d{1,5}))?$/.exec(server.trim())
    if (!match) throw new SessionConfigError(PKG, 'servers', `%s: "${server}" is not host:port`)
    return { host: match[1]!, port: Number(match[2] ?? 11211), weight: 1 }
  }
  if (!server || typeof server.host !== 'string' || server.host === '') {
    throw new SessionConfigError(PKG, 'servers', '%s: every server needs a host')
  }
  const port = server.port ?? 11211
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new SessionConfigError(PKG, 'servers', '%s: bad port')
  return { host: server.host, port, weight: positive('servers.weight', server.weight ?? 1) }
}

/**
 * A memcached client on the meta text protocol (memcached 1.6+) for one server or a cluster:
 * ketama consistent hashing with weights, pipelined connections, dead-server detection with
 * backoff, failover along the ring, and keys validated before anything is written.
 */
export function createMemcachedClient(options: MemcachedClientOptions): MemcachedClient {
  if (!options || !Array.isArray(options.servers) || options.servers.length === 0) {
    throw new SessionConfigError(PKG, 'servers', 'missing %s: a list of "host:port"')
  }
  const settings = {
    maxConnections: positive('maxConnections', options.maxConnections ?? 4),
    connectTimeout: positive('connectTimeout', options.connectTimeout ?? 1000),
    timeout: positive('timeout', options.timeout ?? 1000),
    failureThreshold: positive('failureThreshold', options.failureThreshold ?? 2),
    retryDelay: positive('retryDelay', options.retryDelay ?? 1000),
    maxRetryDelay: positive('maxRetryDelay', options.maxRetryDelay ?? 1000),
    now: options.now ?? wallClock,
  }
  const failover = options.failover ?? false
  const maxValueBytes = positive('maxValueBytes', options.maxValueBytes ?? 1024 * 1024 - 512)
  const nodes = options.servers.map((server) => {
    const { host, port, weight } = parseServer(server)
    return new MemcachedNode(host, port, weight, settings)
  })
  const labels = new Set(nodes.map((n) => n.label))
  if (labels.size !== nodes.length) throw new SessionConfigError(PKG, 'servers', '%s lists a server twice')
  const ring = new KetamaRing(nodes.map((n) => ({ label: n.label, weight: n.weight })))

  const route = (key: string): MemcachedNode => {
    if (!isValidKey(key))
      throw new SessionDataError(PKG, 'invalid key: 1 to 250 printable ASCII characters, no spaces')
    const primary = nodes.length === 1 ? nodes[0]! : nodes[ring.locate(key)]!
    if (!failover || primary.available) return primary
    for (const index of ring.walk(key)) if (nodes[index]!.available) return nodes[index]!
    return primary // every server is dead: let the primary fail fast with its message
  }

  const meta = (reply: Reply, node: MemcachedNode, operation: string): MetaReply => {
    if (reply.kind === 'meta') return reply
    if (reply.type === 'SERVER_ERROR' && /too large/i.test(reply.message)) {
      throw new SessionDataError(
        PKG,
        `${node.label} refused the value: ${reply.message} (the server's item size, -I)`,
      )
    }
    throw new SessionBackendError(PKG, operation, `${node.label} answered ${reply.type} ${reply.message}`)
  }
  const unexpected = (reply: MetaReply, node: MemcachedNode, operation: string) =>
    new SessionBackendError(PKG, operation, `${node.label} gave the unexpected reply ${reply.status}`)

  return {
    maxValueBytes,
    async get(key: string, getOptions?: { touch?: number }): Promise<MemcachedItem | null> {
      const node = route(key)
      const flags = ['v', 'c', 't']
      if (getOptions?.touch !== undefined) flags.push(`T${exptime(getOptions.touch)}`)
      const reply = meta(await node.send('mg', key, flags), node, 'get')
      if (reply.status === 'EN') return null
      if (reply.status !== 'VA' || !reply.value) throw unexpected(reply, node, 'get')
      const ttl = Number(reply.flags.get('t') ?? '-1')
      return {
        value: reply.value.toString('utf8'),
        cas: reply.flags.get('c') ?? '0',
        ttl: Number.isFinite(ttl) ? ttl : -1,
      }
    },
    async set(key: string, value: string, setOptions: SetOptions): Promise<StoreResult> {
      const node = route(key)
      const bytes = Buffer.from(value, 'utf8')
      if (bytes.length > maxValueBytes) {
        throw new SessionDataError(
          PKG,
          `value of ${bytes.length} bytes exceeds maxValueBytes (${maxValueBytes} bytes)`,
        )
      }
      const flags = [`T${exptime(setOptions.exptime)}`]
      const mode = setOptions.mode ?? 'set'
      if (mode !== 'set') flags.push(mode === 'add' ? 'ME' : 'MR')
      if (setOptions.cas !== undefined) flags.push(`C${casToken(setOptions.cas)}`)
      const reply = meta(await node.send('ms', key, flags, bytes), node, 'set')
      if (reply.status === 'HD') return 'stored'
      if (reply.status === 'NS') return 'not_stored'
      if (reply.status === 'EX') return 'exists'
      if (reply.status === 'NF') return 'not_found'
      throw unexpected(reply, node, 'set')
    },
    async delete(key: string, deleteOptions?: { cas?: string }): Promise<DeleteResult> {
      const node = route(key)
      const flags = deleteOptions?.cas !== undefined ? [`C${casToken(deleteOptions.cas)}`] : []
      const reply = meta(await node.send('md', key, flags), node, 'delete')
      if (reply.status === 'HD') return 'deleted'
      if (reply.status === 'NF') return 'not_found'
      if (reply.status === 'EX') return 'exists'
      throw unexpected(reply, node, 'delete')
    },
    async touch(key: string, exptimeValue: number): Promise<boolean> {
      const node = route(key)
      const reply = meta(await node.send('mg', key, [`T${exptime(exptimeValue)}`]), node, 'touch')
      if (reply.status === 'HD') return true
      if (reply.status === 'EN') return false
      throw unexpected(reply, node, 'touch')
    },
    serverFor(key: string): string {
      return route(key).label
    },
    async ping(): Promise<Record<string, boolean>> {
      const results = await Promise.all(
        nodes.map((node) =>
          node.available
            ? node.send('mn', '', []).then(
                (reply) => reply.kind === 'meta' && reply.status === 'MN',
                () => false,
              )
            : false,
        ),
      )
      return Object.fromEntries(nodes.map((node, i) => [node.label, results[i]!]))
    },
    async close(): Promise<void> {
      for (const node of nodes) node.close()
    },
  }
}

function exptime(value: number): number {
  if (!Number.isInteger(value) || value < -1)
    throw new RangeError(`exptime must be a whole number, got ${value}`)
  return value
}

/**
 * `cas` when it is 1 - 20 ASCII digits. A loop, not a regular expression: every compare-and-swap
 * write checks its token (`/^\d{1,20}$/.test`: about 350 instructions, a Fastify increment's).
 */
function casToken(cas: string): string {
  const length = typeof cas === 'string' ? cas.length : 0
  let digits = length >= 1 && length <= 20
  for (let i = 0; digits && i < length; i++) {
    const code = cas.charCodeAt(i)
    digits = code >= 48 && code <= 57
  }
  if (!digits) throw new RangeError('a CAS token is a decimal number')
  return cas
}
