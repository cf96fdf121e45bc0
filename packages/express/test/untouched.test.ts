import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { memoryBackend } from '@sessionbridge/core'
import { SessionDriver } from '@sessionbridge/core/adapter'
import express, { type Request } from 'express'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { sessionMiddleware } from '../src/index.ts'

// Issue 22.2: a request that never touches its session costs no state object, no per-request
// members or closures, and no cookie.
describe('express: a request that never touches the session', () => {
  const seen: Record<string, Request> = {}
  const server = createServer(
    express()
      .use(sessionMiddleware({ backend: memoryBackend() }))
      .get('/plain', (req, res) => {
        seen.plain = req
        res.send('ok')
      })
      .get('/write', (req, res) => {
        seen.write = req
        req.session.set('a', 'written')
        res.send('ok')
      })
      .get('/touched', async (req, res) => {
        seen.touched = req
        res.json({ value: (await req.session.get('a')) ?? null, ticket: req.realtimeTicket })
      }),
  )
  let base = ''
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const own = (req: Request) => Reflect.ownKeys(req).map((key) => [key, Reflect.get(req, key)] as const)
  // Count the driver's opens: an untouched request must open no state.
  const opens = vi.spyOn(SessionDriver.prototype, 'open')
  afterAll(() => opens.mockRestore())

  it('makes no state, defines no members on the request and sends no cookie', async () => {
    opens.mockClear()
    const reply = await fetch(`${base}/plain`)
    expect(await reply.text()).toBe('ok')
    expect(reply.headers.get('set-cookie')).toBeNull()
    expect(opens).not.toHaveBeenCalled()
    // Nothing of ours on the request itself: its entry (the driver) is the root app's request
    // prototype's, shared; a property added to an Express request copies its hidden class.
    const ours = (target: object) =>
      Reflect.ownKeys(target).filter(
        (key) => typeof key === 'symbol' && key.description?.startsWith('sessionbridge'),
      )
    expect(ours(seen.plain!)).toEqual([])
    const home = Object.getPrototypeOf(seen.plain!) as object
    expect(ours(home).map((key) => (key as symbol).description)).toContain('sessionbridge.slot')
    const names = own(seen.plain!).map(([key]) => key)
    for (const member of [
      'session',
      'user',
      'login',
      'logout',
      'authenticate',
      'csrfToken',
      'realtimeTicket',
    ])
      expect(names).not.toContain(member)
    expect(own(seen.plain!).filter(([, value]) => typeof value === 'function' && value.name === '')).toEqual(
      [],
    )
  })

  it('holds the response only once the session is used, and then commits before it', async () => {
    await fetch(`${base}/plain`)
    // The root app's response prototype holds what needs holding: nothing on the response itself.
    expect(Object.hasOwn(seen.plain!.res!, 'end')).toBe(false)
    const reply = await fetch(`${base}/write`)
    expect(Object.hasOwn(seen.write!.res!, 'end')).toBe(false)
    expect(Object.hasOwn(Object.getPrototypeOf(seen.write!.res!) as object, 'end')).toBe(true)
    const cookie = reply.headers.get('set-cookie')?.split(';')[0]
    expect(cookie).toMatch(/^sessionid=/)
    const again = await fetch(`${base}/touched`, { headers: { cookie: cookie! } })
    expect(await again.json()).toEqual({ value: 'written', ticket: null })
  })

  it('makes its one state on first use (the check above can see one)', async () => {
    opens.mockClear()
    const reply = await fetch(`${base}/touched`)
    expect(await reply.json()).toEqual({ value: null, ticket: null })
    expect(opens).toHaveBeenCalledTimes(1)
  })
})
