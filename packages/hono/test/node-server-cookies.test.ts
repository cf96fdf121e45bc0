import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { memoryBackend } from '@sessionbridge/core'
import { type Context, Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SessionEnv, sessionMiddleware } from '../src/index.ts'

// Issue 22: on @hono/node-server the commit's cookie goes into the lightweight response's own
// header record, so the response keeps the server's fast path (no Web `Headers` built and read
// back). What the handler sent must survive as it was.
describe('hono on node-server: the session cookie beside the handler response', () => {
  const shared = { 'content-type': 'text/plain; charset=UTF-8', 'x-shared': 'yes' }
  /** Whether the response still held its parts, unread, when the session middleware was done. */
  const lightweight: Record<string, boolean> = {}
  const app = new Hono<SessionEnv>()
  // Runs after the session middleware on the way out: sees the response as the server will.
  app.use(async (c, next) => {
    await next()
    const key = Object.getOwnPropertySymbols(c.res).find((symbol) => symbol.description === 'cache')
    const parts: unknown = key === undefined ? undefined : (c.res as never)[key]
    lightweight[c.req.path] = Array.isArray(parts) && !(parts[2] instanceof Headers)
  })
  app.use(sessionMiddleware({ backend: memoryBackend() }))
  const write = (c: Context<SessionEnv>) => c.get('session').set('n', 1)
  app.get('/text', (c) => {
    write(c)
    return c.text('text')
  })
  app.get('/json', (c) => {
    write(c)
    return c.json({ ok: true })
  })
  app.get('/own-cookies', (c) => {
    write(c)
    return new Response('own', {
      headers: { 'Content-Type': 'text/plain', 'Set-Cookie': 'a=1', 'X-Own': 'kept' },
    })
  })
  app.get('/own-pairs', (c) => {
    write(c)
    return new Response('pairs', {
      headers: [
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ],
    })
  })
  app.get('/shared', (c) => {
    write(c)
    return new Response('shared', { headers: shared })
  })
  app.get('/header-first', (c) => {
    write(c)
    c.header('Set-Cookie', 'c=3', { append: true })
    return c.text('header first')
  })

  let server: ReturnType<typeof serve>
  let base = ''
  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        base = `http://127.0.0.1:${info.port}`
        resolve()
      })
    })
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const get = async (path: string) => {
    const response = await fetch(base + path)
    return { response, body: await response.text(), cookies: response.headers.getSetCookie() }
  }
  const ours = (cookies: string[]) => cookies.filter((cookie) => cookie.startsWith('sessionid='))

  it('adds the cookie to c.text() and c.json() responses without reading their headers', async () => {
    const text = await get('/text')
    expect(text.body).toBe('text')
    expect(text.response.headers.get('content-type')).toBe('text/plain; charset=UTF-8')
    expect(ours(text.cookies)).toHaveLength(1)
    expect(lightweight['/text']).toBe(true)

    const json = await get('/json')
    expect(JSON.parse(json.body)).toEqual({ ok: true })
    expect(json.response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(ours(json.cookies)).toHaveLength(1)
    expect(lightweight['/json']).toBe(true)
  })

  it("keeps the handler's own cookies and headers", async () => {
    const { cookies, response } = await get('/own-cookies')
    expect(cookies.filter((cookie) => !cookie.startsWith('sessionid='))).toEqual(['a=1'])
    expect(ours(cookies)).toHaveLength(1)
    expect(response.headers.get('x-own')).toBe('kept')
    expect(lightweight['/own-cookies']).toBe(true)
    const pairs = await get('/own-pairs')
    expect(pairs.cookies.filter((cookie) => !cookie.startsWith('sessionid='))).toEqual(['a=1', 'b=2'])
    expect(ours(pairs.cookies)).toHaveLength(1)
  })

  it('never writes into a header object the handler shares between responses', async () => {
    expect(ours((await get('/shared')).cookies)).toHaveLength(1)
    expect(ours((await get('/shared')).cookies)).toHaveLength(1)
    expect(shared).toEqual({ 'content-type': 'text/plain; charset=UTF-8', 'x-shared': 'yes' })
  })

  it('appends to Web headers the handler already made', async () => {
    const { cookies } = await get('/header-first')
    expect(cookies.filter((cookie) => !cookie.startsWith('sessionid='))).toEqual(['c=3'])
    expect(ours(cookies)).toHaveLength(1)
  })
})
