import { memoryBackend, verifyTicket } from '@sessionbridge/core'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, FRAMEWORKS, sessionCookie } from '../src/apps.ts'
import { TICKET_STORES } from '../src/backends.ts'
import { fixtureUsers } from '../src/users.ts'

const quiet = { warn() {} }
const OLD = 'old-secret-old-secret-old-secret'
const NEW = 'new-secret-new-secret-new-secret'

describe.each(FRAMEWORKS)('%s: security over HTTP', (framework) => {
  it('fixation: login changes the id, the planted id is dead and carries no login', async () => {
    const backend = memoryBackend()
    const app = await buildApp(framework, { backend, users: fixtureUsers(), logger: quiet })
    try {
      const planted = sessionCookie((await app.call({ method: 'POST', path: '/write/cart/1' })).setCookies)!
      const login = await app.call({ method: 'POST', path: '/login/alice', cookie: planted })
      expect(login.status).toBe(200)
      const fresh = sessionCookie(login.setCookies)!
      expect(fresh).not.toBe(planted)
      expect(await backend.load(planted.split('=')[1]!)).toBeNull()
      expect(JSON.parse((await app.call({ path: '/whoami', cookie: planted })).body).user).toBeNull()
      expect(JSON.parse((await app.call({ path: '/whoami', cookie: fresh })).body).user).toBe('alice')
    } finally {
      await app.close()
    }
  })

  it('cookie flags: no Secure on http, Secure behind a trusted proxy saying https, never from an untrusted one', async () => {
    const flags = async (trustProxy: boolean) => {
      const app = await buildApp(framework, { backend: memoryBackend(), trustProxy, logger: quiet })
      try {
        const reply = await app.call({
          method: 'POST',
          path: '/write/a/1',
          headers: { 'x-forwarded-proto': 'https' },
        })
        const cookie = reply.setCookies.find((c) => c.startsWith('sessionid='))!
        return cookie.split(';').map((p) => p.trim().split('=')[0]!.toLowerCase())
      } finally {
        await app.close()
      }
    }
    const untrusted = await flags(false)
    expect(untrusted).toEqual(expect.arrayContaining(['httponly', 'samesite', 'path']))
    expect(untrusted).not.toContain('secure')
    expect(await flags(true)).toContain('secure')
  })

  it('secret rotation: old cookies accepted and re-issued, refused once the old secret is gone', async () => {
    const backend = memoryBackend()
    const before = await buildApp(framework, { backend, secrets: [OLD], logger: quiet })
    const during = await buildApp(framework, { backend, secrets: [NEW, OLD], logger: quiet })
    const after = await buildApp(framework, { backend, secrets: [NEW], logger: quiet })
    try {
      const oldCookie = sessionCookie((await before.call({ method: 'POST', path: '/write/n/1' })).setCookies)!
      const renewed = await during.call({ path: '/read', cookie: oldCookie })
      expect(JSON.parse(renewed.body).n).toBe('1')
      const newCookie = sessionCookie(renewed.setCookies)!
      expect(newCookie).not.toBe(oldCookie)
      expect(JSON.parse((await after.call({ path: '/read', cookie: oldCookie })).body)).toEqual({})
      expect(JSON.parse((await after.call({ path: '/read', cookie: newCookie })).body).n).toBe('1')
    } finally {
      await Promise.all([before.close(), during.close(), after.close()])
    }
  })
})

const ticketAvailable = new Map<string, boolean>()
for (const c of TICKET_STORES)
  ticketAvailable.set(c.name, c.service === null || (await serviceAvailable(c.service)))

describe.each(TICKET_STORES.map((c) => [c.name, c] as const))('%s tickets', (name, ticketCase) => {
  describe.skipIf(!ticketAvailable.get(name))('single use', () => {
    let opened: Awaited<ReturnType<typeof ticketCase.open>>
    beforeAll(async () => {
      opened = await ticketCase.open()
    })
    afterAll(async () => {
      await opened?.close()
    })

    it('tickets from the HTTP route are consumed exactly once under 10 racing consumers', async () => {
      const app = await buildApp('fastify', {
        backend: memoryBackend(),
        users: fixtureUsers(),
        tickets: opened.store,
        logger: quiet,
      })
      try {
        const cookie = sessionCookie((await app.call({ method: 'POST', path: '/login/alice' })).setCookies)!
        const tickets: string[] = []
        for (let i = 0; i < 30; i++) {
          const reply = await app.call({ method: 'POST', path: '/ticket', cookie })
          expect(reply.status).toBe(200)
          tickets.push((JSON.parse(reply.body) as { message: string }).message)
        }
        expect(new Set(tickets).size).toBe(tickets.length)
        const results = await Promise.all(
          tickets.map((t) => Promise.all(Array.from({ length: 10 }, () => verifyTicket(opened.store, t)))),
        )
        for (const attempts of results) {
          const winners = attempts.filter((p) => p !== null)
          expect(winners.length).toBe(1)
          expect(winners[0]).toMatchObject({ userId: '1', username: 'alice' })
        }
      } finally {
        await app.close()
      }
    })
  })
})
