import { memoryBackend, SessionConfigError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { type KoaSessionOptions, loggedInOrBasicAuth, sessionMiddleware } from '../src/index.ts'

describe('koa middleware configuration', () => {
  it('throws at startup with a message naming the option', () => {
    expect(() => sessionMiddleware({} as KoaSessionOptions)).toThrow(SessionConfigError)
    expect(() => sessionMiddleware({} as KoaSessionOptions)).toThrow(
      /\[sessionbridge\/koa\] missing option "backend"/,
    )
    expect(() => sessionMiddleware({ backend: memoryBackend(), touchInterval: 0 })).toThrow(
      /option "touchInterval"/,
    )
    expect(() => loggedInOrBasicAuth({ realm: 'é' })).toThrow(/\[sessionbridge\/koa\] option "realm"/)
  })
})
