import { memoryBackend, SessionConfigError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { type ExpressSessionOptions, loggedInOrBasicAuth, sessionMiddleware } from '../src/index.ts'

describe('express middleware configuration', () => {
  it('throws at startup with a message naming the option', () => {
    expect(() => sessionMiddleware({} as ExpressSessionOptions)).toThrow(SessionConfigError)
    expect(() => sessionMiddleware({} as ExpressSessionOptions)).toThrow(
      /\[sessionbridge\/express\] missing option "backend"/,
    )
    expect(() => loggedInOrBasicAuth({ realm: 'é' })).toThrow(/\[sessionbridge\/express\] option "realm"/)
  })

  it("refuses trustProxy: Express's own 'trust proxy' setting decides HTTPS", () => {
    const options = { backend: memoryBackend(), trustProxy: true } as ExpressSessionOptions
    expect(() => sessionMiddleware(options)).toThrow(/\[sessionbridge\/express\] option "trustProxy"/)
  })
})
