import { memoryBackend } from '@sessionbridge/core'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { type SessionEnv, sessionMiddleware } from '../src/index.ts'
import { broken, createdIds, quiet } from './backends.ts'

function app(onError?: Parameters<Hono<SessionEnv>['onError']>[0]) {
  const hono = new Hono<SessionEnv>()
  hono.use(sessionMiddleware({ backend: broken(), logger: quiet }))
  if (onError) hono.onError(onError)
  hono.get('/read', async (c) => c.json({ value: (await c.get('session').get('a')) ?? null }))
  hono.post('/write', (c) => {
    c.get('session').set('a', 1)
    return c.json({ ok: true })
  })
  return hono
}

describe('hono error answers', () => {
  const cookie = { cookie: `sessionid=${'a'.repeat(32)}` }

  it("replaces Hono's default 500 with a generic 503, on read and on commit", async () => {
    const plain = app()
    const original = console.error
    console.error = () => {}
    try {
      const read = await plain.request('/read', { headers: cookie })
      expect(read.status).toBe(503)
      expect(await read.text()).toBe('Service Unavailable')
      const write = await plain.request('/write', { method: 'POST' })
      expect(write.status).toBe(503)
      expect(await write.text()).toBe('Service Unavailable')
    } finally {
      console.error = original
    }
  })

  it("never replaces the app's own onError answer", async () => {
    const own = app((error, c) =>
      c.json({ mine: true, name: error.name, status: (error as { status?: number }).status ?? null }, 500),
    )
    const read = await own.request('/read', { headers: cookie })
    expect(read.status).toBe(500)
    expect(await read.json()).toEqual({ mine: true, name: 'SessionBackendError', status: 503 })
    // A commit failure reaches the app's onError too, as a 503 HTTPException with the cause.
    const write = await own.request('/write', { method: 'POST' })
    expect(write.status).toBe(500)
    expect(await write.json()).toEqual({ mine: true, name: 'Error', status: 503 })
  })

  it("keeps the handler's own error answer when the commit fails too", async () => {
    const failing = new Hono<SessionEnv>()
    failing.use(sessionMiddleware({ backend: broken(), logger: quiet }))
    failing.onError((error, c) => c.json({ handler: error.message }, 418))
    failing.post('/write', (c) => {
      c.get('session').set('a', 1)
      throw new Error('handler broke')
    })
    const answer = await failing.request('/write', { method: 'POST' })
    expect(answer.status).toBe(418)
    expect(await answer.json()).toEqual({ handler: 'handler broke' })
  })

  it('commits before a thrown non-Error goes on to Hono, and rethrows it', async () => {
    const backend = memoryBackend()
    const thrower = new Hono<SessionEnv>()
    thrower.use(sessionMiddleware({ backend, logger: quiet }))
    thrower.post('/write', (c) => {
      c.get('session').set('a', 1)
      throw 'not an Error'
    })
    const ids = createdIds(backend)
    await expect(thrower.request('/write', { method: 'POST' })).rejects.toBe('not an Error')
    expect(ids).toHaveLength(1)
    expect((await backend.load(ids[0]!))?.data.a).toBe(1)
  })
})
