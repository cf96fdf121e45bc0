import { SessionBackendError, SessionTimeoutError } from '@sessionbridge/core'
import { delay, HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchTransport, RestSessionsHttpError, restSessionsBackend } from '../src/index.ts'

// msw stands in for the server only where a real one cannot misbehave on demand.
const BASE = 'http://rest-sessions.test'
const TOKEN = 'a'.repeat(64)
const record = { data: { _auth_user_id: 'u1', a: 1 }, expiresAt: Date.now() + 3_600_000, userId: 'u1' }

const mock = setupServer(
  // Every app here stands for the original, whose answer to the discovery route is its HTML 404.
  http.get(
    `${BASE}/.well-known/rest-sessions`,
    () => new HttpResponse('<pre>Cannot GET</pre>', { status: 404 }),
  ),
  http.get(
    `${BASE}/broken500/get/:token`,
    () => new HttpResponse('Internal Server Error: boom', { status: 500 }),
  ),
  http.get(`${BASE}/hang/get/:token`, async () => {
    await delay('infinite')
    return HttpResponse.json({})
  }),
  http.get(`${BASE}/truncated/get/:token`, () => new HttpResponse('{"id":"u1","r":1,"w":', { status: 200 })),
  http.get(`${BASE}/reset/get/:token`, () => HttpResponse.error()),
  http.put(`${BASE}/reset/create/:id`, () => HttpResponse.error()),
  // The original server's quirks (reference §2, §6).
  http.get(`${BASE}/quirks/get/:token`, () =>
    HttpResponse.json({ name: 'invalidFormat', message: 'Invalid token format' }, { status: 500 }),
  ),
  http.post(`${BASE}/quirks/set/:token`, () =>
    HttpResponse.json({ name: 'invalidFormat', message: 'Invalid token format' }, { status: 500 }),
  ),
  http.delete(`${BASE}/quirks/kill/:token`, () =>
    HttpResponse.json({ name: 'invalidFormat', message: 'Invalid token format' }, { status: 500 }),
  ),
  http.get(`${BASE}/unknown/get/:token`, () => HttpResponse.json({})),
  http.post(`${BASE}/unknown/set/:token`, () => HttpResponse.json({})),
  http.put(`${BASE}/unknown/create/:id`, () =>
    HttpResponse.json({ name: 'missingParameter', message: 'No ip supplied' }, { status: 500 }),
  ),
)

const backend = (app: string, timeout = 300) =>
  restSessionsBackend({ url: BASE, app, timeout, transport: fetchTransport() })

describe('fetch transport against a misbehaving server (msw)', () => {
  beforeAll(() => mock.listen({ onUnhandledRequest: 'bypass' }))
  afterAll(() => mock.close())

  it('a 500 is a typed error with the status and the body', async () => {
    const error = await backend('broken500')
      .load(TOKEN)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RestSessionsHttpError)
    expect(error).toMatchObject({
      responseStatus: 500,
      responseBody: 'Internal Server Error: boom',
      status: 503,
    })
    expect((error as Error).message).toContain('500')
  })

  it('a hanging server is a timeout, not a hang', async () => {
    const error = await backend('hang')
      .load(TOKEN)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionTimeoutError)
    expect(error).toMatchObject({ operation: 'load', timeoutMs: 300 })
  })

  it('truncated JSON is a typed error naming the body', async () => {
    const error = await backend('truncated')
      .load(TOKEN)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
    expect((error as Error).message).toMatch(/invalid JSON.*"id":"u1"/)
  })

  it('a connection reset is a typed error with the cause', async () => {
    for (const attempt of [backend('reset').load(TOKEN), backend('reset').create('x', record)]) {
      const error = await attempt.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SessionBackendError)
      expect((error as Error).cause).toBeDefined()
    }
  })

  it('a refused connection is a typed error', async () => {
    const refused = restSessionsBackend({ url: 'http://127.0.0.1:9', app: 'refused' })
    await expect(refused.load(TOKEN)).rejects.toBeInstanceOf(SessionBackendError)
  })

  it("the original's 500 invalidFormat for a token is 'no session'", async () => {
    const b = backend('quirks')
    expect(await b.load(TOKEN)).toBeNull()
    expect(await b.touch(TOKEN, Date.now() + 1000)).toBe(false)
    expect(await b.save(TOKEN, { set: { a: 2 }, deleted: [] }, record)).toBe(false)
    await expect(b.destroy(TOKEN)).resolves.toBeUndefined()
  })

  it("the original's {} for an unknown token is 'no session'; other 500s stay errors", async () => {
    const b = backend('unknown')
    expect(await b.load(TOKEN)).toBeNull()
    expect(await b.save(TOKEN, { set: { a: 2 }, deleted: [] }, record)).toBe(false)
    await expect(b.create('x', record)).rejects.toMatchObject({
      responseStatus: 500,
      responseBody: expect.stringContaining('No ip'),
    })
  })

  it('a server that does not list extensions is the original: nothing extra is sent or declared', async () => {
    const b = backend('unknown')
    await b.ready()
    expect(b.extensions).toEqual({ merge: false, newttl: false, update: false, guard: false })
    expect(b.capabilities).toMatchObject({ merge: false, update: false, fixedTtl: true })
  })

  it('a discovery that fails is a typed error, asked again on the next call', async () => {
    const down = restSessionsBackend({ url: 'http://127.0.0.1:9', app: 'down', timeout: 300 })
    await expect(down.ready()).rejects.toBeInstanceOf(SessionBackendError)
    expect(down.extensions).toBeNull()
    await expect(down.touch(TOKEN, Date.now() + 1000)).rejects.toBeInstanceOf(SessionBackendError)
  })

  it('ids that are not tokens never reach the server', async () => {
    const b = backend('hang')
    expect(await b.load('not-a-token')).toBeNull()
    expect(await b.touch('x', 0)).toBe(false)
  })
})
