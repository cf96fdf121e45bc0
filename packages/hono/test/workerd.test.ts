// The behaviour suite once more, with the Hono app inside workerd (Cloudflare's runtime, through
// miniflare): the app, the middleware and the session lifecycle run in the Worker; each test's
// backend, users and tickets stay in the suite and are reached over a service binding.
import { fileURLToPath } from 'node:url'
import { memoryBackend, memoryTicketStore, memoryUserSource } from '@sessionbridge/core'
import { BEHAVIOUR_PERMISSION, testFrameworkBehaviour } from '@sessionbridge/core/testing/http'
import { bundleWorker, type Miniflare, startWorker } from '@sessionbridge/test-services/workerd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BridgeHost } from './workerd/host.ts'

const host = new BridgeHost()
let mf: Miniflare
let code: string

beforeAll(async () => {
  const entry = fileURLToPath(new URL('./workerd/behaviour-worker.ts', import.meta.url))
  code = (await bundleWorker(entry)).code
  mf = await startWorker(code, { serviceBindings: { NODE: host.serve } })
})
afterAll(() => mf?.dispose())

describe('hono inside workerd', () => {
  it('is a Worker module without Node built-ins', () => {
    expect(code).not.toMatch(/from ["']node:|require\(["']node:/)
  })

  it('runs in workerd, not in Node', async () => {
    const answer = await (await mf.dispatchFetch('http://edge.test/__runtime')).json()
    expect(answer).toEqual({ userAgent: 'Cloudflare-Workers', process: 'undefined' })
  })

  it('marks the cookie Secure for an https request URL, with no proxy header', async () => {
    const app = host.app(() => mf, {
      session: { backend: memoryBackend(), secrets: ['edge-secret-0123456789abcdef'] },
      users: memoryUserSource({ users: [] }),
      tickets: memoryTicketStore(),
      trustProxy: false,
      realm: 'edge',
      permission: BEHAVIOUR_PERMISSION,
    })
    try {
      const https = await app.fetch(new Request('https://edge.test/write?key=a&value=1', { method: 'POST' }))
      expect(https.headers.getSetCookie()[0]).toMatch(
        /^sessionid=[a-z0-9]{32}\.[A-Za-z0-9_-]{43}; .*HttpOnly; Secure; SameSite=Lax$/,
      )
      const http = await app.fetch(new Request('http://edge.test/write?key=a&value=1', { method: 'POST' }))
      expect(http.headers.getSetCookie()[0]).not.toMatch(/Secure/)
    } finally {
      await app.close()
    }
  })
})

testFrameworkBehaviour({ name: 'hono (workerd)', makeApp: (options) => host.app(() => mf, options) })
testFrameworkBehaviour({
  name: 'hono sessionFetch (workerd)',
  makeApp: (options) => host.app(() => mf, options, 'fetch'),
})
