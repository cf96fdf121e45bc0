import { type AuthUser, memoryBackend } from '@sessionbridge/core'
import Fastify from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import { sessionPlugin } from '../src/index.ts'

interface ShopUser extends AuthUser {
  email: string
}

declare module '@sessionbridge/fastify' {
  interface SessionDataMap {
    count: number
    cart: string[]
  }
  interface SessionUserMap {
    user: ShopUser
  }
}

describe('fastify types', () => {
  it('types request.session from the augmented data map', () => {
    const app = Fastify()
    app.register(sessionPlugin, { backend: memoryBackend() })
    app.get('/', async (request) => {
      expectTypeOf(request.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      expectTypeOf(request.session.get('cart')).toEqualTypeOf<Promise<string[] | undefined>>()
      expectTypeOf(request.session.get('other')).toEqualTypeOf<Promise<unknown>>()
      // @ts-expect-error count is a number
      request.session.set('count', 'one')
      expectTypeOf(await request.user).toEqualTypeOf<ShopUser | null>()
      expectTypeOf(request.login).parameter(0).toEqualTypeOf<ShopUser>()
      expectTypeOf(request.realtimeTicket).toEqualTypeOf<string | null>()
      return 'ok'
    })
  })
})
