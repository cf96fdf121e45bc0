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
