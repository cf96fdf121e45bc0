import { randomBytes } from 'node:crypto'
import { SERVICE_URLS } from '@sessionbridge/test-services'
import { createClient } from 'redis'
import { createServer, type RestSessionsServer, type RestSessionsServerOptions } from '../src/index.ts'

export const redisUrl = new URL(SERVICE_URLS.redis)
/** What a script write runs in Redis (EVALSHA counted, as INFO commandstats does). */
export const SCRIPT_WRITE = ['EVALSHA', 'HMGET', 'HSET']
/** The same when the last access moves: the three index scores follow. */
export const LAST_ACCESS_MOVES = [...SCRIPT_WRITE, 'ZADD', 'ZADD', 'ZADD']
export const freshNamespace = () => `sbt-rs-${randomBytes(6).toString('hex')}`

/** A controllable clock, epoch ms. */
export function manualClock(start = Date.now()) {
  let t = start
  return {
    now: () => t,
    advance(seconds: number) {
      t += seconds * 1000
    },
  }
}

export interface Answer {
  status: number
  type: string
  text: string
  json: unknown
  headers: Headers
}

/** A server on a free port, and a small HTTP caller for it. */
export async function startServer(options: RestSessionsServerOptions = {}) {
  const server: RestSessionsServer = await createServer({
    redisHost: redisUrl.hostname,
    redisPort: Number(redisUrl.port || 6379),
    logLevel: 'none',
    wipeInterval: 0,
    ...options,
  })
  const base = await server.listen({ port: 0 })
  const call = async (
    method: string,
    path: string,
    init: { json?: unknown; body?: string; type?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...init.headers }
    let body: string | undefined = init.body
    if (init.json !== undefined) body = JSON.stringify(init.json)
    if (body !== undefined) headers['content-type'] = init.type ?? 'application/json'
    const response = await fetch(`${base}${path}`, { method, headers, body })
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      text,
      json,
      headers: response.headers,
    }
  }
  return { server, base, call }
}

/** A Redis client of the test's own, and removal of every key under a namespace. */
export type TestRedis = ReturnType<typeof createClient>

export async function redisClient(): Promise<TestRedis> {
  const client: TestRedis = createClient({ url: SERVICE_URLS.redis })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

export async function dropNamespace(client: TestRedis, namespace: string) {
  for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys)
  }
}
