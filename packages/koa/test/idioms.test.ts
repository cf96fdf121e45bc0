import { memoryBackend, memoryUserSource, SessionConfigError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { sessionMiddleware } from '../src/index.ts'
import { injected } from './app.ts'

const options = () => ({
  session: { backend: memoryBackend() },
  users: memoryUserSource({ users: [] }),
  tickets: null,
  realm: 'r',
  permission: 'a.b',
  trustProxy: false,
})

const cookieOf = (response: Response) => response.headers.getSetCookie()[0]?.split(';')[0] ?? ''

describe('koa idioms', () => {
  it('ctx.session = null destroys the session, as with koa-session', async () => {
    const app = await injected(options())
    const written = await app.fetch(new Request('http://x/write?key=a&value=1', { method: 'POST' }))
    const cookie = cookieOf(written)
    expect(cookie).toMatch(/^sessionid=[a-z0-9]{32}$/)
    const destroyed = await app.fetch(
      new Request('http://x/destroy', { method: 'POST', headers: { cookie } }),
    )
    expect(destroyed.status).toBe(200)
    expect(destroyed.headers.getSetCookie()[0]).toMatch(/^sessionid=; Max-Age=0/)
    const read = await app.fetch(new Request('http://x/read?key=a', { headers: { cookie } }))
    expect(await read.json()).toEqual({ value: null })
  })

  it('refuses trustProxy: Koa decides HTTPS with app.proxy', () => {
    const bad = { backend: memoryBackend(), trustProxy: true } as Parameters<typeof sessionMiddleware>[0]
    expect(() => sessionMiddleware(bad)).toThrow(SessionConfigError)
    expect(() => sessionMiddleware(bad)).toThrow(/\[sessionbridge\/koa\] option "trustProxy"/)
  })
})
