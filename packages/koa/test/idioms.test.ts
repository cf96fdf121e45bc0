import { memoryBackend, memoryUserSource, SessionConfigError } from '@sessionbridge/core'
import Koa from 'koa'
import { inject } from 'light-my-request'
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

  it('ctx.state.user is a plain property: looked up only when asked, the one user of login(), and replaceable (koa-passport sets it)', async () => {
    const users = memoryUserSource({ users: [] })
    const ada = await users.add({ id: 7, username: 'ada' })
    const app = new Koa()
    app.use(sessionMiddleware({ backend: memoryBackend(), users }))
    app.use(async (ctx) => {
      if (ctx.path === '/replace') {
        // An accessor without a setter (what each request had before) throws here in strict code.
        ctx.state.user = { passport: true } as never
        ctx.body = { replaced: ctx.state.user }
        return
      }
      const before = ctx.state.user.loaded
      await ctx.login(ada)
      const after = ctx.state.user.loaded
      const cached = ctx.state.user.get()
      ctx.body = {
        before,
        after,
        user: (await ctx.state.user)?.username,
        same: cached === ctx.state.user.get(),
      }
    })
    const callback = app.callback()
    const login = await inject(callback, { method: 'GET', url: '/login' })
    expect(login.statusCode).toBe(200)
    expect(login.json()).toEqual({ before: false, after: true, user: 'ada', same: true })
    const replaced = await inject(callback, { method: 'GET', url: '/replace' })
    expect(replaced.statusCode).toBe(200)
    expect(replaced.json()).toEqual({ replaced: { passport: true } })
    // Nothing used the session: no state was made and no cookie is sent.
    expect(replaced.headers['set-cookie']).toBeUndefined()
  })

  it('refuses trustProxy: Koa decides HTTPS with app.proxy', () => {
    const bad = { backend: memoryBackend(), trustProxy: true } as Parameters<typeof sessionMiddleware>[0]
    expect(() => sessionMiddleware(bad)).toThrow(SessionConfigError)
    expect(() => sessionMiddleware(bad)).toThrow(/\[sessionbridge\/koa\] option "trustProxy"/)
  })
})
