import { memoryBackend } from '@sessionbridge/core'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { sessionFetch, sessionOf, stateOf } from '../src/index.ts'
import { broken, createdIds, quiet } from './backends.ts'

// `sessionFetch`: the sessions around `app.fetch`, not in Hono's middleware chain (issue 22.2).
// What the behaviour suites do not show: the cost of a request that never touches its session, and
// the answers the wrapper gives itself, outside Hono's `onError`.
const cookie = { cookie: `sessionid=${'a'.repeat(32)}` }
const post = (path: string) => new Request(`http://app.test${path}`, { method: 'POST' })
const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://app.test${path}`, { headers })

describe('hono sessionFetch: a request that never touches the session', () => {
  const app = new Hono()
  app.get('/plain', (c) => c.text('ok'))
  app.get('/write', (c) => {
    sessionOf(c).session.set('a', 1)
    return c.text('written')
  })
  const fetch = sessionFetch(app, { backend: memoryBackend() })

  it("answers with the app's own Response, not a promise, and sends no cookie", () => {
    const request = get('/plain')
    const answer = fetch(request)
    expect(answer).toBeInstanceOf(Response)
    expect((answer as Response).headers.get('set-cookie')).toBeNull()
    // The request carries the options it was run with, one value made at startup: no state.
    const held = Object.getOwnPropertySymbols(request)
      .filter((key) => key.description?.startsWith('sessionbridge'))
      .map((key) => Reflect.get(request, key))
    expect(held).toHaveLength(1)
    expect(held[0]).toHaveProperty('driver')
    expect(held[0]).not.toHaveProperty('state')
  })

  it('commits a used session and sets its cookie', async () => {
    const answer = await fetch(get('/write'))
    expect(await answer.text()).toBe('written')
    expect(answer.headers.get('set-cookie')).toMatch(/^sessionid=\w+; /)
  })

  it('throws a named error when a handler asks for a session no wrapper runs', async () => {
    const bare = new Hono()
    bare.get('/state', (c) => c.json(stateOf(c)))
    bare.get('/session', (c) => c.json(sessionOf(c)))
    bare.onError((error, c) => c.text(error.message, 500))
    for (const path of ['/state', '/session']) {
      const answer = await bare.request(path)
      expect(await answer.text()).toBe(
        '[sessionbridge/hono] the session middleware or sessionFetch must run before this',
      )
    }
  })
})

describe('hono sessionFetch error answers', () => {
  const build = (configure?: (app: Hono) => void) => {
    const app = new Hono()
    app.get('/read', async (c) => c.json({ value: (await sessionOf(c).session.get('a')) ?? null }))
    app.post('/write', (c) => {
      sessionOf(c).session.set('a', 1)
      return c.json({ ok: true })
    })
    app.get('/redirect', (c) => {
      sessionOf(c).session.set('a', 1)
      return Response.redirect('http://app.test/read', 302) // immutable headers
    })
    configure?.(app)
    return app
  }

  it("replaces Hono's default 500 with a generic 503, on read and on commit", async () => {
    const fetch = sessionFetch(build(), { backend: broken(), logger: quiet })
    const original = console.error
    console.error = () => {}
    try {
      const read = await fetch(get('/read', cookie))
      expect(read.status).toBe(503)
      expect(await read.text()).toBe('Service Unavailable')
      const write = await fetch(post('/write'))
      expect(write.status).toBe(503)
      expect(await write.text()).toBe('Service Unavailable')
    } finally {
      console.error = original
    }
  })

  it("never replaces the app's own onError answer, set after the wrapper too", async () => {
    const app = build()
    const fetch = sessionFetch(app, { backend: broken(), logger: quiet })
    app.onError((error, c) => c.json({ mine: true, name: error.name }, 500))
    const read = await fetch(get('/read', cookie))
    expect(read.status).toBe(500)
    expect(await read.json()).toEqual({ mine: true, name: 'SessionBackendError' })
  })

  it("keeps the handler's own error answer when the commit fails too", async () => {
    const app = build((hono) => {
      hono.post('/throws', (c) => {
        sessionOf(c).session.set('a', 1)
        throw new Error('handler broke')
      })
      hono.onError((error, c) => c.json({ handler: error.message }, 418))
    })
    const fetch = sessionFetch(app, { backend: broken(), logger: quiet })
    const answer = await fetch(post('/throws'))
    expect(answer.status).toBe(418)
    expect(await answer.json()).toEqual({ handler: 'handler broke' })
  })

  it('commits before a thrown non-Error goes on to the server, and rethrows it', async () => {
    const backend = memoryBackend()
    const app = build((hono) =>
      hono.post('/throws', (c) => {
        sessionOf(c).session.set('a', 1)
        throw 'not an Error'
      }),
    )
    const ids = createdIds(backend)
    const fetch = sessionFetch(app, { backend, logger: quiet })
    await expect(Promise.resolve().then(() => fetch(post('/throws')))).rejects.toBe('not an Error')
    expect(ids).toHaveLength(1)
    expect((await backend.load(ids[0]!))?.data.a).toBe(1)
  })

  it('sets the cookie on a response with immutable headers, on a copy', async () => {
    const fetch = sessionFetch(build(), { backend: memoryBackend() })
    const answer = await fetch(get('/redirect'))
    expect(answer.status).toBe(302)
    expect(answer.headers.get('location')).toBe('http://app.test/read')
    expect(answer.headers.get('set-cookie')).toMatch(/^sessionid=\w+/)
  })
})
