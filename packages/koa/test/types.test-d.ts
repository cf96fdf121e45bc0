import { type AuthUser, memoryBackend } from '@sessionbridge/core'
import Koa from 'koa'
import { describe, expectTypeOf, it } from 'vitest'
import { sessionMiddleware } from '../src/index.ts'

interface ShopUser extends AuthUser {
  email: string
}

declare module '@sessionbridge/koa' {
  interface SessionDataMap {
    count: number
    cart: string[]
  }
  interface SessionUserMap {
    user: ShopUser
  }
}

describe('koa types', () => {
  it('types ctx.session and ctx.state.user from the augmented maps', () => {
    const app = new Koa()
    app.use(sessionMiddleware({ backend: memoryBackend() }))
    app.use(async (ctx) => {
      expectTypeOf(ctx.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      expectTypeOf(ctx.session.get('cart')).toEqualTypeOf<Promise<string[] | undefined>>()
      expectTypeOf(ctx.session.get('other')).toEqualTypeOf<Promise<unknown>>()
      // @ts-expect-error count is a number
      ctx.session.set('count', 'one')
      expectTypeOf(await ctx.state.user).toEqualTypeOf<ShopUser | null>()
      expectTypeOf(ctx.login).parameter(0).toEqualTypeOf<ShopUser>()
      expectTypeOf(ctx.realtimeTicket).toEqualTypeOf<string | null>()
      ctx.session = null
      // @ts-expect-error only null destroys; a session cannot be assigned
      ctx.session = {}
    })
  })
})
