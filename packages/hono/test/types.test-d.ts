import { type AuthUser, memoryBackend } from '@sessionbridge/core'
import { Hono } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import { type SessionEnv, sessionFetch, sessionMiddleware, sessionOf } from '../src/index.ts'

interface ShopUser extends AuthUser {
  email: string
}
interface ShopData {
  [key: string]: unknown
  count: number
  cart: string[]
}

describe('hono types', () => {
  it('types c.get("session") and c.get("user") through the Env generic', () => {
    const app = new Hono<SessionEnv<ShopData, ShopUser>>()
    app.use(sessionMiddleware<ShopData, ShopUser>({ backend: memoryBackend() }))
    app.get('/', async (c) => {
      const session = c.get('session')
      expectTypeOf(session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      expectTypeOf(session.get('cart')).toEqualTypeOf<Promise<string[] | undefined>>()
      // @ts-expect-error count is a number
      session.set('count', 'one')
      expectTypeOf(await c.get('user')).toEqualTypeOf<ShopUser | null>()
      expectTypeOf(c.get('login')).parameter(0).toEqualTypeOf<ShopUser>()
      expectTypeOf(c.var.realtimeTicket).toEqualTypeOf<string | null>()
      return c.text('ok')
    })
  })

  it('keeps the app fetch type through sessionFetch, and types sessionOf through its generics', () => {
    const app = new Hono<{ Bindings: { KV: string } }>()
    app.get('/', async (c) => {
      const { session, user, login } = sessionOf<ShopData, ShopUser>(c)
      expectTypeOf(session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      expectTypeOf(await user).toEqualTypeOf<ShopUser | null>()
      expectTypeOf(login).parameter(0).toEqualTypeOf<ShopUser>()
      // @ts-expect-error cart holds strings
      session.set('cart', [1])
      return c.text('ok')
    })
    expectTypeOf(sessionFetch(app, { backend: memoryBackend() })).toEqualTypeOf<typeof app.fetch>()
    // @ts-expect-error an app is needed, not its fetch alone
    sessionFetch(app.fetch, { backend: memoryBackend() })
  })
})
