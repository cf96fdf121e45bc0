import { memoryBackend } from '@sessionbridge/core'
import { RequestSession } from '@sessionbridge/core/adapter'
import { type Context, Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { type SessionEnv, sessionMiddleware } from '../src/index.ts'

// Issue 22.2: a request that never touches its session costs no state object, no `c.set` and no
// per-request closures; its variables are made on first `c.get`.
describe('hono: a request that never touches the session', () => {
  const seen: Record<string, Context> = {}
  const app = new Hono<SessionEnv>()
  app.use(sessionMiddleware({ backend: memoryBackend() }))
  app.get('/plain', (c) => {
    seen.plain = c
    return c.text('ok')
  })
  app.get('/touched', async (c) => {
    seen.touched = c
    const value = (await c.get('session').get('a')) ?? null
    return c.json({ value, ticket: c.get('realtimeTicket'), other: c.get('other' as never) ?? null })
  })
  // The states on a context: the middleware keeps its own in one object there (`RequestSlot`).
  const states = (c: Context) =>
    Reflect.ownKeys(c)
      .map((key) => Reflect.get(c, key) as unknown)
      .flatMap((value) => [value, (value as { state?: unknown } | null)?.state])
      .filter((value) => value instanceof RequestSession)

  it('makes no state, sets no variable and sends no cookie', async () => {
    const reply = await app.request('/plain')
    expect(await reply.text()).toBe('ok')
    expect(reply.headers.get('set-cookie')).toBeNull()
    expect(seen.plain!.var).toEqual({}) // Hono's variables map was never made: no c.set call
    expect(states(seen.plain!)).toEqual([])
  })

  it('makes its one state on first c.get, and leaves other variables to Hono', async () => {
    const reply = await app.request('/touched')
    expect(await reply.json()).toEqual({ value: null, ticket: null, other: null })
    expect(states(seen.touched!)).toHaveLength(1)
  })

  it('leaves the context a value, not a thenable: its own `then` is undefined', async () => {
    await app.request('/plain')
    const c = seen.plain!
    // Hono's compose resolves promises with the context: found here, the search ends at once.
    expect(Object.getOwnPropertyDescriptor(c, 'then')).toMatchObject({ value: undefined })
    expect(await Promise.resolve(c)).toBe(c)
  })

  it('decides Secure through trustProxy when a returning session writes its cookie', async () => {
    const proxied = new Hono<SessionEnv>()
    proxied.use(sessionMiddleware({ backend: memoryBackend(), trustProxy: true }))
    proxied.get('/set', async (c) => {
      c.get('session').set('a', 1)
      return c.text('set')
    })
    proxied.get('/rotate', async (c) => {
      c.get('session').regenerate()
      return c.text('rotated')
    })
    const first = await proxied.request('/set')
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    expect(first.headers.get('set-cookie')).not.toMatch(/Secure/)
    const https = await proxied.request('/rotate', { headers: { cookie, 'x-forwarded-proto': 'https' } })
    expect(https.headers.get('set-cookie')).toMatch(/^sessionid=\w+; .*Secure/)
    const again = https.headers.get('set-cookie')!.split(';')[0]!
    const http = await proxied.request('/rotate', { headers: { cookie: again, 'x-forwarded-proto': 'http' } })
    expect(http.headers.get('set-cookie')).toMatch(/^sessionid=\w+;/)
    expect(http.headers.get('set-cookie')).not.toMatch(/Secure/)
  })

  it("a second session middleware on the same context keeps Hono's own variables reachable", async () => {
    const twice = new Hono<SessionEnv>()
    twice.use(sessionMiddleware({ backend: memoryBackend() }))
    twice.use(async (c, next) => {
      c.set('other' as never, 'kept' as never)
      await next()
    })
    twice.use(sessionMiddleware({ backend: memoryBackend() }))
    twice.get('/', async (c) =>
      c.json({ other: c.get('other' as never), value: (await c.get('session').get('a')) ?? null }),
    )
    expect(await (await twice.request('/')).json()).toEqual({ other: 'kept', value: null })
  })
})
