import { type AuthUser, memoryBackend } from '@sessionbridge/core'
import express from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import { sessionMiddleware } from '../src/index.ts'

interface ShopUser extends AuthUser {
  email: string
}

declare module '@sessionbridge/express' {
  interface SessionDataMap {
    count: number
  }
  interface SessionUserMap {
    user: ShopUser
  }
}

describe('express types', () => {
  it('types req.session and req.user from the augmented maps', () => {
    const app = express()
    app.use(sessionMiddleware({ backend: memoryBackend() }))
    app.get('/', async (req, res) => {
      expectTypeOf(req.session.get('count')).toEqualTypeOf<Promise<number | undefined>>()
      // @ts-expect-error count is a number
      req.session.set('count', 'one')
      expectTypeOf(await req.user).toEqualTypeOf<ShopUser | null>()
      expectTypeOf(req.login).parameter(0).toEqualTypeOf<ShopUser>()
      expectTypeOf(req.realtimeTicket).toEqualTypeOf<string | null>()
      res.end()
    })
  })
})
