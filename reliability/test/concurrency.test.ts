import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppUnderTest, buildApp, FRAMEWORKS, sessionCookie } from '../src/apps.ts'
import { BACKENDS, type OpenedBackend } from '../src/backends.ts'

const available = new Map<string, boolean>()
for (const c of BACKENDS) available.set(c.name, c.service === null || (await serviceAvailable(c.service)))

const PARALLEL = 100

describe.each(BACKENDS.map((c) => [c.name, c] as const))('%s', (name, backendCase) => {
  describe.skipIf(!available.get(name))('concurrency', () => {
    let opened: OpenedBackend
    beforeAll(async () => {
      opened = await backendCase.open()
    })
    afterAll(async () => {
      await opened?.close()
    })

    describe.each(FRAMEWORKS)('%s', (framework) => {
      let app: AppUnderTest
      beforeAll(async () => {
        // Not a fault test: a patient timeout, so a loaded machine cannot fail a correct merge.
        app = await buildApp(framework, { backend: opened.backend, timeout: 20_000, logger: { warn() {} } })
      })
      afterAll(async () => {
        await app?.close()
      })

      /** A session holding `seed=1`; returns its cookie. */
      const seed = async () => {
        const created = await app.call({ method: 'POST', path: '/write/seed/1' })
        expect(created.status).toBe(200)
        return sessionCookie(created.setCookies)!
      }
      const idOf = (cookie: string) => cookie.split('=')[1]!

      it(`${PARALLEL} parallel requests each write a distinct key: every key survives`, async () => {
        const cookie = await seed()
        const replies = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            app.call({ method: 'POST', path: `/write/k${i}/v${i}`, cookie }),
          ),
        )
        expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200))
        const data = JSON.parse((await app.call({ path: '/read', cookie })).body) as Record<string, unknown>
        for (let i = 0; i < PARALLEL; i++) expect(data[`k${i}`], `k${i}`).toBe(`v${i}`)
        expect(data.seed).toBe('1')
      })

      it('regenerate racing with writes: no error, the old id is dead, the new one keeps the data', async () => {
        const cookie = await seed()
        const writes = Array.from({ length: 30 }, (_, i) =>
          app.call({ method: 'POST', path: `/write/r${i}/x`, cookie }),
        )
        const regenerated = app.call({ method: 'POST', path: '/regenerate', cookie })
        const replies = await Promise.all([...writes, regenerated])
        expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200))
        const fresh = sessionCookie((await regenerated).setCookies)!
        expect(fresh).not.toBe(cookie)
        expect(await opened.backend.load(idOf(cookie))).toBeNull()
        const data = JSON.parse((await app.call({ path: '/read', cookie: fresh })).body) as Record<
          string,
          unknown
        >
        expect(data.seed).toBe('1')
        for (const key of Object.keys(data)) expect(key).toMatch(/^(seed|r\d+|_sb_created)$/)
      })

      it('logout racing with writes: logout wins, the session stays gone', async () => {
        const cookie = await seed()
        const writes = Array.from({ length: 30 }, (_, i) =>
          app.call({ method: 'POST', path: `/write/w${i}/x`, cookie }),
        )
        const replies = await Promise.all([...writes, app.call({ method: 'POST', path: '/logout', cookie })])
        expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200))
        expect(await opened.backend.load(idOf(cookie))).toBeNull()
        expect(JSON.parse((await app.call({ path: '/read', cookie })).body)).toEqual({})
      })
    })
  })
})
