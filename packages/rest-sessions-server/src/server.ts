import { createHash } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { createClient } from 'redis'
import { ProtocolError } from './errors.ts'
import { registerRoutes } from './routes.ts'
import { type RedisCommandSender, type SessionStore, sessionStore } from './store.ts'

/** Options of `createServer`. */
export interface RestSessionsServerOptions {
  /** Redis host of the server's own client (`RS_REDISHOST`). @default '127.0.0.1' */
  redisHost?: string
  /** Redis port of the server's own client (`RS_REDISPORT`). @default 6379 */
  redisPort?: number
  /** A client to use instead of its own (node-redis v5 or anything with `sendCommand`); never closed by the server. */
  redis?: RedisCommandSender
  /** Redis key prefix (`RS_NAMESPACE`). @default 'rs' */
  namespace?: string
  /** `none` turns request logging off; a pino level name sets it; anything else means `info` (`RS_LOGLEVEL`). @default 'dev' */
  logLevel?: string
  /** Largest request body, bytes (the original's body-parser limit). @default 60000 */
  bodyLimit?: number
  /** How often the wiper deletes expired sessions, ms; `0` turns it off. @default 600000 */
  wipeInterval?: number
  /** Longest wait for Redis per request, ms; then 503. @default 2000 */
  redisTimeout?: number
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
  /**
   * Sessions whose last access each process remembers, so that most reads cost two Redis commands
   * (HMGET + HINCRBY) instead of the GET script's three; `0` turns that off. @default 10000
   */
  readCacheSize?: number
  /**
   * Strict compatibility: behave as the original 2.0.1 server did, for testing clients against
   * it: `set` reads, merges in Node and writes back (parallel writers lose keys), `newttl` is
   * ignored (the ttl is fixed at create), validation errors answer HTTP 500, no extensions are
   * advertised and their routes answer 404. @default false
   */
  strict?: boolean
}

/** A server made by `createServer`: not listening until `listen()`. */
export interface RestSessionsServer {
  readonly fastify: FastifyInstance
  readonly store: SessionStore
  /** Starts listening; returns the base URL. Port `0` picks a free port. */
  listen(options?: { port?: number; host?: string }): Promise<string>
  /** Runs the wiper once; returns how many expired sessions it deleted. */
  wipe(): Promise<number>
  /** Stops accepting requests, waits for those in flight, stops the wiper, closes its own Redis client. */
  close(): Promise<void>
}

const PINO_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
// Redis is retried forever, at most every 2 s; requests answer 503 meanwhile (no offline queue).
const reconnectStrategy = (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2000)

/** A rest-sessions protocol server on Fastify and Redis. */
export async function createServer(options: RestSessionsServerOptions = {}): Promise<RestSessionsServer> {
  const resolved = Object.freeze({
    redisHost: options.redisHost ?? '127.0.0.1',
    redisPort: options.redisPort ?? 6379,
    namespace: options.namespace ?? 'rs',
    logLevel: options.logLevel ?? 'dev',
    bodyLimit: options.bodyLimit ?? 60_000,
    wipeInterval: options.wipeInterval ?? 600_000,
    redisTimeout: options.redisTimeout ?? 2000,
    now: options.now ?? Date.now,
    strict: options.strict ?? false,
  })
  if (!/^[^\s:]*$/.test(resolved.namespace)) throw new RangeError('namespace must not contain spaces or ":"')
  if (!Number.isInteger(resolved.bodyLimit) || resolved.bodyLimit < 1)
    throw new RangeError('bodyLimit must be a positive integer')

  let ownClient: ReturnType<typeof createClient> | null = null
  let redis = options.redis
  if (!redis) {
    const client = createClient({
      socket: { host: resolved.redisHost, port: resolved.redisPort, reconnectStrategy, connectTimeout: 2000 },
      disableOfflineQueue: true,
    })
    ownClient = client
    redis = client
  }

  const logger: FastifyServerOptions['logger'] =
    resolved.logLevel === 'none'
      ? false
      : { level: PINO_LEVELS.has(resolved.logLevel) ? resolved.logLevel : 'info' }
  const fastify = Fastify({
    logger,
    bodyLimit: resolved.bodyLimit,
    routerOptions: { maxParamLength: 1024 },
  })
  ownClient?.on('error', (error: Error) => fastify.log.warn(`[rest-sessions-server] Redis: ${error.message}`))

  const store = sessionStore({
    redis,
    namespace: resolved.namespace,
    timeout: resolved.redisTimeout,
    now: resolved.now,
    warn: (message) => fastify.log.warn(message),
    atomicSet: !resolved.strict,
    readCacheSize: options.readCacheSize ?? 10_000,
  })

  installParsers(fastify)
  installEtag(fastify)
  fastify.setErrorHandler((error, request, reply) => {
    if (error instanceof ProtocolError) {
      // The original answered its validation errors with 500; outside strict mode they are 400s.
      const status = error.validation && !resolved.strict ? 400 : error.statusCode
      if (status >= 500) request.log.warn(`${error.name}: ${error.message}`)
      return reply.code(status).send(error.toJSON())
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500
    if (status >= 400 && status < 500) {
      const name =
        status === 413 ? 'PayloadTooLargeError' : error instanceof SyntaxError ? 'SyntaxError' : 'badRequest'
      return reply.code(status).send({ name, message: (error as Error).message })
    }
    request.log.error(error)
    return reply.code(500).send({ name: 'internalError', message: 'internal server error' })
  })
  registerRoutes(fastify, store, resolved.strict)

  if (ownClient) {
    // Wait briefly for Redis; if it is down, start anyway and answer 503 until it comes back.
    const connecting = ownClient.connect().catch(() => undefined)
    await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
  }

  let wiping: Promise<number> | null = null
  const wipe = () => {
    wiping ??= store.wipe().finally(() => {
      wiping = null
    })
    return wiping
  }
  const wiper =
    resolved.wipeInterval > 0
      ? setInterval(() => {
          wipe().catch((error: Error) => fastify.log.warn(`[rest-sessions-server] wiper: ${error.message}`))
        }, resolved.wipeInterval)
      : null
  wiper?.unref()

  let closed = false
  return {
    fastify,
    store,
    async listen(listenOptions = {}) {
      return fastify.listen({ port: listenOptions.port ?? 3000, host: listenOptions.host ?? '127.0.0.1' })
    },
    wipe,
    async close() {
      if (closed) return
      closed = true
      if (wiper) clearInterval(wiper)
      await fastify.close()
      await wiping?.catch(() => undefined)
      if (ownClient) {
        if (ownClient.isReady) await ownClient.close().catch(() => undefined)
        else if (ownClient.isOpen) ownClient.destroy()
      }
    },
  }
}

/**
 * Bodies as the original's body-parser read them: JSON only with a JSON content type, and then
 * only objects and arrays (strict mode, 400 otherwise); any other content type is ignored.
 */
function installParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, undefined)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      return done(Object.assign(error as SyntaxError, { statusCode: 400 }), undefined)
    }
    if (value === null || typeof value !== 'object') {
      return done(
        Object.assign(new SyntaxError('the JSON body must be an object'), { statusCode: 400 }),
        undefined,
      )
    }
    done(null, value)
  })
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined))
}

/** Weak ETags and 304s on GET, like Express (the original answered If-None-Match with 304). */
function installEtag(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || reply.statusCode !== 200) return payload
    if (typeof payload !== 'string') return payload
    const length = Buffer.byteLength(payload)
    const hash = createHash('sha1').update(payload).digest('base64').slice(0, 27)
    const etag = `W/"${length.toString(16)}-${hash}"`
    reply.header('etag', etag)
    const match = request.headers['if-none-match']
    if (match?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
      reply.code(304)
      return ''
    }
    return payload
  })
}
