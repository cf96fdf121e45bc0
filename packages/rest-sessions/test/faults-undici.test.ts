import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { SessionBackendError, SessionTimeoutError } from '@sessionbridge/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RestSessionsHttpError, restSessionsBackend } from '../src/index.ts'
import { undiciTransport } from '../src/undici.ts'

// msw does not intercept undici's Pool: a deliberately broken HTTP server does the same job.
const TOKEN = 'b'.repeat(64)
const behaviours: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  // The original's answer to the discovery route.
  '.well-known': (_req, res) =>
    res.writeHead(404, { 'content-type': 'text/html' }).end('<pre>Cannot GET</pre>'),
  broken500: (_req, res) =>
    res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error: boom'),
  hang: () => undefined,
  stall: (_req, res) => {
    // Headers and the start of a body, then nothing more.
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write('{"id":')
  },
  truncated: (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"u1","r":1,"w":'),
  cut: (_req, res) => {
    // Promise 100 bytes, send 10, then drop the connection.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
    res.write('{"id":"u1"')
    setTimeout(() => res.socket?.destroy(), 10)
  },
  reset: (req) => req.socket.destroy(),
  quirks: (_req, res) =>
    res
      .writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ name: 'invalidFormat', message: 'Invalid token format' })),
}

describe('undici transport against a deliberately broken server', () => {
  let server: Server
  let url = ''
  const transport = undiciTransport({ connections: 4 })
  const backend = (app: string) => restSessionsBackend({ url, app, timeout: 300, transport })

  beforeAll(async () => {
    server = createServer((req, res) => behaviours[req.url!.split('/')[1]!]!(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await transport.close?.()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('a 500 is a typed error with the status and the body', async () => {
    const error = await backend('broken500')
      .load(TOKEN)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RestSessionsHttpError)
    expect(error).toMatchObject({ responseStatus: 500, responseBody: 'Internal Server Error: boom' })
  })

  it('a hanging server is a timeout', async () => {
    await expect(backend('hang').load(TOKEN)).rejects.toBeInstanceOf(SessionTimeoutError)
  })

  it('keeps the deadline itself: late headers or a stalled body are a timeout, one signal for calls started together', async () => {
    // Counted by a subclass: a vitest spy of the class makes controllers without a signal.
    const Real = globalThis.AbortController
    let made = 0
    globalThis.AbortController = class extends Real {
      constructor() {
        super()
        made++
      }
    }
    try {
      const started = Date.now()
      const hung = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          backend(i % 2 === 0 ? 'hang' : 'stall')
            .load(TOKEN)
            .catch((e: unknown) => e),
        ),
      )
      for (const error of hung) {
        expect(error).toBeInstanceOf(SessionTimeoutError)
        expect(error).toMatchObject({ operation: 'load', timeoutMs: 300 })
      }
      // Each ends between its timeout and 100 ms later; more than 12 calls share a signal.
      const took = Date.now() - started
      expect(took).toBeGreaterThanOrEqual(300)
      expect(took).toBeLessThan(1000)
      expect(made).toBeGreaterThanOrEqual(1)
      expect(made).toBeLessThanOrEqual(2)
    } finally {
      globalThis.AbortController = Real
    }
  })

  it('truncated JSON and a body cut short are typed errors', async () => {
    await expect(backend('truncated').load(TOKEN)).rejects.toThrow(/invalid JSON/)
    const error = await backend('cut')
      .load(TOKEN)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
  })

  it('a connection reset and a refused connection are typed errors with a cause', async () => {
    const reset = await backend('reset')
      .load(TOKEN)
      .catch((e: unknown) => e)
    expect(reset).toBeInstanceOf(SessionBackendError)
    expect((reset as Error).cause).toBeDefined()
    const refused = restSessionsBackend({
      url: 'http://127.0.0.1:9',
      app: 'refused',
      transport: undiciTransport(),
    })
    const error = await refused.load(TOKEN).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
    expect((error as Error).message).toMatch(/ECONNREFUSED/)
    await refused.close?.()
  })

  it("the original's 500 invalidFormat for a token is 'no session'", async () => {
    expect(await backend('quirks').load(TOKEN)).toBeNull()
    expect(await backend('quirks').touch(TOKEN, Date.now() + 1000)).toBe(false)
  })
})
