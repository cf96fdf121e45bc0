import { createServer, type IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  bodyField,
  RequestSession,
  RequestSlot,
  ResponseGate,
  SessionDriver,
  sessionErrorAnswer,
  sessionMembers,
  sessionRoutes,
} from '../src/adapter.ts'
import { memoryBackend, memoryUserSource, SessionBackendError, SessionConfigError } from '../src/index.ts'

const quiet = { warn() {} }
const driverFor = (backend = memoryBackend()) =>
  new SessionDriver({ backend, logger: quiet }, { package: 'kit', frameworkProxyTrust: true })

describe('RequestSlot', () => {
  it('opens no state for a request without a session cookie until first use', () => {
    const slot = new RequestSlot<object>('kit', () => false)
    const request = {}
    expect(() => slot.of(request)).toThrow(
      '[sessionbridge/kit] the session middleware must run before this one',
    )
    expect(slot.attach(request, driverFor(), 'other=1')).toBeUndefined()
    expect(slot.opened(request)).toBeNull()
    // One entry under the slot's own symbol (not a WeakMap: see RequestSlot), holding no state yet.
    expect(Reflect.ownKeys(request).map((key) => (key as symbol).description)).toEqual(['sessionbridge.slot'])
    const state = slot.of(request)
    expect(state).toBeInstanceOf(RequestSession)
    expect(slot.opened(request)).toBe(state)
    expect(slot.of(request)).toBe(state)
  })

  it('opens the state at once for a cookie that may carry a session; begin() runs the checks', async () => {
    const slot = new RequestSlot<object>('kit', () => true)
    const request = {}
    await slot.attach(request, driverFor(), 'sessionid=0123456789abcdefghijklmnopqrstuv', 'first')
    const opened = slot.opened(request)
    expect(opened?.secure).toBe(true)
    expect(slot.handle(request)).toBe('first')
    // A second middleware on the same request: its driver and handle, the state the first opened.
    expect(slot.attach(request, driverFor(), undefined, 'second')).toBeUndefined()
    expect(slot.opened(request)).toBe(opened)
    expect(slot.of(request)).toBe(opened)
    expect(slot.handle(request)).toBe('second')
    expect(slot.handle({})).toBeUndefined()
    // Without checks and without a cookie, nothing to wait for.
    expect(
      slot.begin({}, driverFor(), undefined, () => ({
        method: 'GET',
        header: () => undefined,
        formField: () => undefined,
      })),
    ).toBeUndefined()
  })

  it('leaves the entry of a request without cookie at its home until first use', () => {
    const slot = new RequestSlot<object>('kit', () => false)
    const home = {}
    const [driver, other] = [driverFor(), driverFor()]
    const ours = (target: object) => Reflect.ownKeys(target).filter((key) => typeof key === 'symbol')
    const request = Object.create(home) as object
    expect(slot.attach(request, driver, undefined, 'next', home)).toBeUndefined()
    expect(ours(request)).toEqual([]) // nothing written on the request
    expect(ours(home)).toHaveLength(1)
    expect(slot.opened(request)).toBeNull()
    expect(slot.handle(request)).toBeUndefined()
    const state = slot.of(request) // first use: an entry of its own, the home's stays empty
    expect(state.driver).toBe(driver)
    expect(ours(request)).toHaveLength(1)
    expect(slot.of(request)).toBe(state)
    expect(slot.opened(Object.create(home) as object)).toBeNull()
    // Another driver through the same home: the request gets its own entry, as without a home.
    const elsewhere = Object.create(home) as object
    slot.attach(elsewhere, other, undefined, 'other next', home)
    expect(ours(elsewhere)).toHaveLength(1)
    expect(slot.of(elsewhere).driver).toBe(other)
    expect(slot.handle(elsewhere)).toBe('other next')
    // A cookie that may carry a session opens the state at once, on the request's own entry.
    const returning = Object.create(home) as object
    slot.attach(returning, driver, 'sessionid=0123456789abcdefghijklmnopqrstuv', 'next', home)
    expect(slot.opened(returning)).toBeInstanceOf(RequestSession)
    expect(slot.of(Object.create(home) as object)).not.toBe(state)
  })

  it('uses no home for a driver with checks (CSRF): a route the middleware did not pass would skip them', () => {
    const slot = new RequestSlot<object>('kit', () => false)
    const home = {}
    const checked = new SessionDriver(
      { backend: memoryBackend(), logger: quiet, csrf: { djangoVersion: '3.2' } },
      { package: 'kit', frameworkProxyTrust: true },
    )
    expect(checked.checks).toBe(true)
    const request = Object.create(home) as object
    slot.attach(request, checked, undefined, 'next', home)
    expect(Reflect.ownKeys(home)).toEqual([])
    expect(slot.handle(request)).toBe('next')
    expect(() => slot.of(Object.create(home) as object)).toThrow('must run before this one')
  })
})

describe('bodyField', () => {
  it('reads parsed objects and raw urlencoded strings, nothing else', () => {
    expect(bodyField({ t: 'x' }, 'application/json', 't')).toBe('x')
    expect(bodyField({ t: 1 }, undefined, 't')).toBeUndefined()
    expect(bodyField('t=a+b&u=1', 'application/x-www-form-urlencoded; charset=utf-8', 't')).toBe('a b')
    expect(bodyField('t=a', 'text/plain', 't')).toBeUndefined()
    expect(bodyField(null, undefined, 't')).toBeUndefined()
    expect(bodyField(42, undefined, 't')).toBeUndefined()
  })
})

describe('sessionMembers and sessionRoutes', () => {
  it('shared descriptors reach each target’s own state, with its address and cookie', async () => {
    const users = memoryUserSource({
      users: [{ id: 1, username: 'ann', password: 'pw-ann-0123' }],
      iterations: 1000,
    })
    const driver = new SessionDriver(
      { backend: memoryBackend(), users, logger: quiet },
      { package: 'kit', frameworkProxyTrust: true },
    )
    const slot = new RequestSlot<{ ip: string }>('kit', () => false)
    const proto = Object.defineProperties(
      {},
      sessionMembers<{ ip: string }>({
        state: (t) => slot.of(t),
        address: (t) => t.ip,
        cookie: () => undefined,
      }),
    ) as { session: unknown; authenticate(u: string, p: string): Promise<{ status: string }> }
    const a = Object.assign(Object.create(proto), { ip: '10.0.0.1' })
    const b = Object.assign(Object.create(proto), { ip: '10.0.0.2' })
    slot.attach(a, driver, undefined)
    slot.attach(b, driver, undefined)
    expect(a.session).toBe(slot.of(a).session)
    expect(a.session).not.toBe(b.session)
    expect((await a.authenticate('ann', 'pw-ann-0123')).status).toBe('ok')
    expect((await b.authenticate('ann', 'wrong')).status).toBe('invalid')
  })

  it('route factories check their options under the package name', () => {
    const routes = sessionRoutes('kit', { guard: () => 'g', ticket: () => 't', realtimeTicket: () => 'r' })
    expect(routes.loggedInOrBasicAuth()).toBe('g')
    expect(routes.permissionOrBasicAuth('app.view')).toBe('g')
    expect(routes.ticketRoute(null)).toBe('t')
    expect(routes.realtimeTicket(null)).toBe('r')
    expect(() => routes.loggedInOrBasicAuth({ realm: 'é' })).toThrow(SessionConfigError)
    expect(() => routes.loggedInOrBasicAuth({ realm: 'é' })).toThrow(/\[sessionbridge\/kit\] option "realm"/)
  })
})

// `home`: each response inherits a prototype of the test's own, which the gate holds it from
// (ResponseGate's home, as Express's root app response prototype): nothing is written on the response.
describe.each([
  ['its own methods', false],
  ['its home', true],
])('ResponseGate on a real Node server, holding a response by %s', (_name, atHome) => {
  type Handler = (state: () => RequestSession, res: ServerResponse) => void
  async function serve(driver: SessionDriver, handler: Handler) {
    const slot = new RequestSlot<IncomingMessage>('kit', () => false)
    const failures: unknown[] = []
    const gate = new ResponseGate<ServerResponse>(
      (res) => slot.opened(res.req),
      (res, error) => {
        failures.push(error)
        res.statusCode = sessionErrorAnswer(error)?.status ?? 500
        res.end('failed')
      },
    )
    const home = Object.create(ServerResponse.prototype) as object
    const server = createServer((req, res) => {
      if (atHome) Object.setPrototypeOf(res, home)
      gate.hold(res, atHome ? home : undefined)
      gate.hold(res, atHome ? home : undefined) // a second middleware on the same response: once is enough, and no loop
      expect(Object.hasOwn(res, 'end')).toBe(!atHome)
      slot.attach(req, driver, req.headers.cookie)
      handler(() => slot.of(req), res)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const reply = await fetch(`http://127.0.0.1:${port}/`)
      return {
        status: reply.status,
        cookie: reply.headers.get('set-cookie'),
        body: await reply.text(),
        failures,
      }
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  it('sends an untouched response at once, without a cookie', async () => {
    const reply = await serve(driverFor(), (_state, res) => res.end('plain'))
    expect(reply).toMatchObject({ status: 200, cookie: null, body: 'plain', failures: [] })
  })

  it('holds every write of a used session until the commit, then sends them in order with the cookie', async () => {
    const reply = await serve(driverFor(), (state, res) => {
      state().session.set('a', 1)
      const kept = res.end // a wrapper installed later keeps ours: it must queue too
      res.write('a')
      res.write('b')
      ;(kept as (chunk: string) => unknown).call(res, 'c')
    })
    expect(reply).toMatchObject({ status: 200, body: 'abc', failures: [] })
    expect(reply.cookie).toMatch(/^sessionid=\w+;/)
  })

  it('hands a commit failure to the adapter, and sends nothing of the held response', async () => {
    const backend = memoryBackend()
    backend.create = async () => {
      throw new SessionBackendError('memory', 'create', 'disk on fire')
    }
    const reply = await serve(driverFor(backend), (state, res) => {
      state().session.set('a', 1)
      res.end('never sent')
    })
    expect(reply).toMatchObject({ status: 503, cookie: null, body: 'failed' })
    expect(reply.failures).toHaveLength(1)
    expect(reply.failures[0]).toBeInstanceOf(SessionBackendError)
  })
})

// Both ways a response is held: by methods of its own (a wrapper that kept ours writes after the
// commit) and by its home.
describe.each([
  ['its own methods', false],
  ['its home', true],
])('ResponseGate holding by %s, once the commit is done', (_name, atHome) => {
  it("passes writes straight through, with the stream's own answer (backpressure)", async () => {
    // The home's prototype answers `false` to every write, as a full socket buffer would.
    const parent = Object.create(ServerResponse.prototype, {
      write: {
        writable: true, // as a prototype's methods are: a response may get its own
        value(this: ServerResponse, ...args: unknown[]) {
          ;(ServerResponse.prototype.write as (...a: unknown[]) => boolean).apply(this, args)
          return false
        },
      },
    }) as object
    const home = Object.create(parent) as object
    const slot = new RequestSlot<IncomingMessage>('kit', () => false)
    const gate = new ResponseGate<ServerResponse>(
      (res) => slot.opened(res.req),
      () => {},
    )
    const answers: boolean[] = []
    const driver = driverFor()
    const server = createServer((req, res) => {
      Object.setPrototypeOf(res, home)
      slot.attach(req, driver, req.headers.cookie)
      gate.hold(res, atHome ? home : undefined)
      const kept = res.write // a wrapper installed now would keep ours
      slot.of(req).session.set('a', 1)
      answers.push(res.write('held')) // waits for the commit: true, as a held write always answers
      setTimeout(() => {
        answers.push((kept as (chunk: string) => boolean).call(res, ' then straight')) // the parent's own answer
        res.end()
      }, 50)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const reply = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      expect(await reply.text()).toBe('held then straight')
      expect(reply.headers.get('set-cookie')).toMatch(/^sessionid=/)
      expect(answers).toEqual([true, false])
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
