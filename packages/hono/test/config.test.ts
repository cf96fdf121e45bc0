import { memoryBackend, SessionConfigError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { type HonoSessionOptions, permissionOrBasicAuth, sessionMiddleware } from '../src/index.ts'

describe('hono middleware configuration', () => {
  it('throws at startup with a message naming the option', () => {
    expect(() => sessionMiddleware({} as HonoSessionOptions)).toThrow(SessionConfigError)
    expect(() => sessionMiddleware({} as HonoSessionOptions)).toThrow(
      /\[sessionbridge\/hono\] missing option "backend"/,
    )
    expect(() => sessionMiddleware({ backend: memoryBackend(), cookie: { name: 'a b' } })).toThrow(
      /"cookie.name"/,
    )
    expect(() => permissionOrBasicAuth('')).toThrow(/\[sessionbridge\/hono\] option "permission"/)
  })
})
