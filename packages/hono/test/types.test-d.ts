import { type AuthUser, memoryBackend } from '@sessionbridge/core'
import { Hono } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import { type SessionEnv, sessionMiddleware } from '../src/index.ts'

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
})
