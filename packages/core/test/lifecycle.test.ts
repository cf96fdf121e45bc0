import { describe, expect, it } from 'vitest'
import { type ChangeSet, createSigner } from '../src/adapter.ts'
import {
  alphabetIdFormat,
  createSessionManager,
  djangoIdFormat,
  type IdFormat,
  memoryBackend,
  plainData,
  type SessionBackend,
  SessionBackendError,
  SessionConfigError,
} from '../src/index.ts'

/** Wraps a backend and counts calls per method: the round-trip budget. */
function counted(backend: SessionBackend) {
  const calls: Record<string, number> = {}
  const wrapped = new Proxy(backend, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1
        return value.apply(target, args)
      }
    },
  })
  return { backend: wrapped, calls, total: () => Object.values(calls).reduce((a, b) => a + b, 0) }
}

const cookieOf = (setCookie: string | null) => setCookie?.split(';')[0] ?? ''

describe('session lifecycle', () => {
  it('costs nothing for a request without a cookie that does not touch the session', async () => {
    const c = counted(memoryBackend())
    const manager = createSessionManager({ backend: c.backend })
    const session = await manager.open({ cookie: null })
    const result = await session.commit()
    expect(result).toEqual({ reason: 'nothing', setCookie: null, lost: false })
    expect(c.total()).toBe(0)
  })

  it('creates on first write, reads in one round trip, writes in two', async () => {
    const c = counted(memoryBackend())
    const manager = createSessionManager<{ count: number }>({ backend: c.backend })
    const first = await manager.open({ cookie: null })
    first.set('count', 1)
    const created = await first.commit()
    expect(created.reason).toBe('create')
    expect(created.setCookie).toMatch(
      /^sessionid=[a-z0-9]{32}; Max-Age=1209600; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/,
    )
    const cookie = cookieOf(created.setCookie)

    const before = c.total()
    const read = await manager.open({ cookie })
    expect(await read.get('count')).toBe(1)
    expect((await read.commit()).reason).toBe('nothing')
    expect(c.total() - before).toBe(1)

    const before2 = c.total()
    const write = await manager.open({ cookie })
    write.set('count', ((await write.get('count')) ?? 0) + 1)
    expect((await write.commit()).reason).toBe('save')
    expect(c.total() - before2).toBe(2)
    expect(await (await manager.open({ cookie })).get('count')).toBe(2)
  })

  it('sends no cookie and writes nothing for a new session that stayed empty', async () => {
    const c = counted(memoryBackend())
    const manager = createSessionManager({ backend: c.backend })
    const session = await manager.open({ cookie: null })
    expect(await session.get('x')).toBeUndefined()
    expect((await session.commit()).setCookie).toBeNull()
    expect(c.calls.create).toBeUndefined()
  })

  it('regenerate keeps the data under a new id and kills the old one', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend })
    const s1 = await manager.open({ cookie: null })
    s1.set('cart', [1])
    const cookie = cookieOf((await s1.commit()).setCookie)
    const oldId = cookie.split('=')[1]!
    const s2 = await manager.open({ cookie })
    s2.regenerate()
    s2.set('_auth_user_id', '7')
    const result = await s2.commit()
    expect(result.reason).toBe('regenerate')
    const newId = cookieOf(result.setCookie).split('=')[1]!
    expect(newId).not.toBe(oldId)
    expect(await backend.load(oldId)).toBeNull()
    const loaded = await backend.load(newId)
    expect(loaded?.data.cart).toEqual([1])
    expect(loaded?.userId).toBe('7')
  })

  it('destroy deletes the record and clears the cookie', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend })
    const s1 = await manager.open({ cookie: null })
    s1.set('a', 1)
    const cookie = cookieOf((await s1.commit()).setCookie)
    const s2 = await manager.open({ cookie })
    s2.destroy()
    const result = await s2.commit()
    expect(result.reason).toBe('destroy')
    expect(result.setCookie).toMatch(/^sessionid=; Max-Age=0;/)
    expect(await backend.load(cookie.split('=')[1]!)).toBeNull()
  })

  it('notices objects changed in place', async () => {
    const manager = createSessionManager<{ cart: number[] }>({ backend: memoryBackend() })
    const s1 = await manager.open({ cookie: null })
    s1.set('cart', [])
    const cookie = cookieOf((await s1.commit()).setCookie)
    const s2 = await manager.open({ cookie })
    ;(await s2.get('cart'))!.push(5)
    expect((await s2.commit()).reason).toBe('save')
    expect(await (await manager.open({ cookie })).get('cart')).toEqual([5])
  })

  it('flash values are read once', async () => {
    const manager = createSessionManager({ backend: memoryBackend() })
    const s1 = await manager.open({ cookie: null })
    s1.flash('notice', 'saved')
    const cookie = cookieOf((await s1.commit()).setCookie)
    const s2 = await manager.open({ cookie })
    expect(await s2.takeFlash('notice')).toBe('saved')
    await s2.commit()
    expect(await (await manager.open({ cookie })).takeFlash('notice')).toBeUndefined()
  })

  it('touches at most once per interval, and only when the session was read', async () => {
    let now = 1_000_000_000_000
    const c = counted(memoryBackend({ now: () => now }))
    const manager = createSessionManager({ backend: c.backend, touchInterval: 60, now: () => now })
    const s1 = await manager.open({ cookie: null })
    s1.set('a', 1)
    const cookie = cookieOf((await s1.commit()).setCookie)
    now += 30_000
    const s2 = await manager.open({ cookie })
    await s2.get('a')
    expect((await s2.commit()).reason).toBe('nothing')
    now += 31_000
    const s3 = await manager.open({ cookie })
    await s3.get('a')
    const touched = await s3.commit()
    expect(touched.reason).toBe('touch')
    expect(touched.setCookie).toContain('Max-Age=1209600')
    expect(c.calls.touch).toBe(1)
  })

  describe('a write of an existing session', () => {
    const OLD = 'old-secret-0123456789abcdef'
    const NEW = 'new-secret-0123456789abcdef'
    const setup = (touchInterval: number | false = 60) => {
      const clock = { now: 1_000_000_000_000 }
      const backend = memoryBackend({ now: () => clock.now })
      const c = counted(backend)
      const manager = createSessionManager({ backend: c.backend, touchInterval, now: () => clock.now })
      return { clock, backend, c, manager }
    }
    const storedExpiry = async (backend: SessionBackend, cookie: string) =>
      (await backend.load(cookie.split('=')[1]!))?.expiresAt

    it('keeps the stored expiry and sends no cookie within the touch interval, then moves both', async () => {
      const { clock, backend, manager } = setup()
      const first = await manager.open({ cookie: null })
      first.set('a', 1)
      const cookie = cookieOf((await first.commit()).setCookie)
      const created = clock.now + 1_209_600_000
      expect(await storedExpiry(backend, cookie)).toBe(created)

      clock.now += 30_000
      const within = await manager.open({ cookie })
      within.set('a', 2)
      expect(await within.commit()).toMatchObject({ reason: 'save', setCookie: null })
      expect(await storedExpiry(backend, cookie)).toBe(created)

      clock.now += 31_000
      const after = await manager.open({ cookie })
      after.set('a', 3)
      const moved = await after.commit()
      expect(moved.reason).toBe('save')
      expect(moved.setCookie).toContain('Max-Age=1209600')
      expect(await storedExpiry(backend, cookie)).toBe(clock.now + 1_209_600_000)
      expect(await (await manager.open({ cookie })).get('a')).toBe(3)
    })

    it('moves both at every write with touchInterval false (Django’s way)', async () => {
      const { clock, backend, manager } = setup(false)
      const first = await manager.open({ cookie: null })
      first.set('a', 1)
      const cookie = cookieOf((await first.commit()).setCookie)
      clock.now += 1_000
      const next = await manager.open({ cookie })
      next.set('a', 2)
      expect((await next.commit()).setCookie).toContain('Max-Age=1209600')
      expect(await storedExpiry(backend, cookie)).toBe(clock.now + 1_209_600_000)
    })

    it('moves the expiry earlier at once when a lowered absoluteMaxAge ends the session sooner', async () => {
      const { clock, backend, manager } = setup()
      const first = await manager.open({ cookie: null })
      first.set('a', 1)
      const cookie = cookieOf((await first.commit()).setCookie)
      const created = clock.now
      clock.now += 30_000
      const stricter = createSessionManager({ backend, absoluteMaxAge: 86_400, now: () => clock.now })
      const next = await stricter.open({ cookie })
      next.set('a', 2)
      const result = await next.commit()
      expect(result.setCookie).toContain('Max-Age=86370')
      expect(await storedExpiry(backend, cookie)).toBe(created + 86_400_000)
    })

    it('re-signs a stale cookie with the expiry it kept', async () => {
      const clock = { now: 1_000_000_000_000 }
      const backend = memoryBackend({ now: () => clock.now })
      const old = createSessionManager({ backend, secrets: [OLD], now: () => clock.now })
      const first = await old.open({ cookie: null })
      first.set('a', 1)
      const cookie = cookieOf((await first.commit()).setCookie)
      clock.now += 30_000
      const rotated = createSessionManager({ backend, secrets: [NEW, OLD], now: () => clock.now })
      const next = await rotated.open({ cookie })
      next.set('a', 2)
      const result = await next.commit()
      expect(result.reason).toBe('save')
      expect(result.setCookie).toContain('Max-Age=1209570')
      expect(cookieOf(result.setCookie)).not.toBe(cookie)
    })

    it('by update(): no cookie within the interval; after it, the update moves the expiry and the cookie follows', async () => {
      const { clock, backend, c, manager } = setup()
      const first = await manager.open({ cookie: null })
      first.set('n', 0)
      const cookie = cookieOf((await first.commit()).setCookie)
      const created = clock.now + 1_209_600_000
      const bump = (n: unknown) => Number(n ?? 0) + 1

      clock.now += 30_000
      const within = await manager.open({ cookie })
      expect(await within.update('n', bump)).toBe(1)
      expect(await within.commit()).toMatchObject({ reason: 'nothing', setCookie: null })
      expect(await storedExpiry(backend, cookie)).toBe(created)

      clock.now += 31_000
      const calls = c.total()
      const after = await manager.open({ cookie })
      expect(await after.update('n', bump)).toBe(2)
      const renewed = await after.commit()
      expect(renewed.reason).toBe('renew')
      expect(renewed.setCookie).toContain('Max-Age=1209600')
      expect(cookieOf(renewed.setCookie)).toBe(cookie)
      expect(await storedExpiry(backend, cookie)).toBe(clock.now + 1_209_600_000)
      expect(c.total() - calls).toBe(2) // load and update: no touch, no save
    })
  })
  it('expires after the idle timeout and after the absolute lifetime', async () => {
    let now = 1_000_000_000_000
    const backend = memoryBackend({ now: () => now })
    const manager = createSessionManager({ backend, maxAge: 100, absoluteMaxAge: 250, now: () => now })
    const s1 = await manager.open({ cookie: null })
    s1.set('a', 1)
    const cookie = cookieOf((await s1.commit()).setCookie)
    for (let i = 0; i < 4; i++) {
      now += 80_000 // active every 80 s: idle never reached
      const s = await manager.open({ cookie })
      expect(await s.get('a'), `step ${i}`).toBe(i < 3 ? 1 : undefined)
      s.set('a', 1)
      await s.commit()
    }
    now += 101_000
    expect(await (await manager.open({ cookie })).get('a')).toBeUndefined()
  })

  it('fails closed with a 503-typed error when the backend is down, or degrades when told to', async () => {
    const broken: SessionBackend = {
      ...memoryBackend(),
      name: 'broken',
      load: async () => {
        throw new Error('ECONNREFUSED')
      },
    }
    const id = broken.idFormat.generate()
    const failing = createSessionManager({ backend: broken })
    const s = await failing.open({ cookie: `sessionid=${id}` })
    const error = await s.get('a').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
    expect((error as SessionBackendError).status).toBe(503)

    const warnings: string[] = []
    const lenient = createSessionManager({
      backend: broken,
      onBackendError: 'continue',
      logger: { warn: (m) => warnings.push(m) },
    })
    const d = await lenient.open({ cookie: `sessionid=${id}` })
    expect(await d.get('a')).toBeUndefined()
    expect(d.degraded).toBe(true)
    d.set('a', 1)
    expect((await d.commit()).reason).toBe('degraded')
    expect(warnings.length).toBeGreaterThan(0)
  })

  it('bounds a hanging backend by the timeout', async () => {
    const hanging: SessionBackend = { ...memoryBackend(), name: 'hang', load: () => new Promise(() => {}) }
    const manager = createSessionManager({ backend: hanging, timeout: 50 })
    const s = await manager.open({ cookie: `sessionid=${hanging.idFormat.generate()}` })
    await expect(s.get('a')).rejects.toThrow(/no answer within 50 ms/)
  })

  it('rejects misconfiguration naming the option', () => {
    expect(() => createSessionManager({} as never)).toThrow(SessionConfigError)
    expect(() => createSessionManager({} as never)).toThrow('[sessionbridge/core] missing option "backend"')
    expect(() => createSessionManager({ backend: memoryBackend(), maxAge: -1 })).toThrow(/option "maxAge"/)
    expect(() => createSessionManager({ backend: memoryBackend(), secrets: ['short'] })).toThrow(
      /option "secrets"/,
    )
  })
})

describe('typed backend errors', () => {
  it('a SessionDataError from the backend reaches the caller as itself, not wrapped', async () => {
    const { SessionDataError } = await import('../src/index.ts')
    const inner = memoryBackend()
    const strict: SessionBackend = {
      ...inner,
      create: async () => {
        throw new SessionDataError('strict', 'session data is 2000000 bytes; the limit is 1048576')
      },
    }
    const session = await createSessionManager({ backend: strict }).open({})
    session.set('big', 'x')
    const error = await session.commit().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionDataError)
    expect((error as Error).message).toContain('the limit is 1048576')
  })
})

describe('the cookie-less fast path adapters use', () => {
  it('mayCarrySession is false only when the header cannot hold the cookie', () => {
    const manager = createSessionManager({ backend: memoryBackend() })
    expect(manager.mayCarrySession(undefined)).toBe(false)
    expect(manager.mayCarrySession('')).toBe(false)
    expect(manager.mayCarrySession('theme=dark')).toBe(false)
    expect(manager.mayCarrySession('theme=dark; sessionid=abc')).toBe(true)
  })

  it("openPresent makes no session for a header without the cookie, and the cookie's session otherwise", async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend, secrets: ['present-secret-0123456789abcdef'] })
    const made = await manager.open({})
    made.set('n', 1)
    const cookie = (await made.commit()).setCookie!.split(';')[0]!
    for (const header of [undefined, '', 'theme=dark', 'xsessionid=1', 'theme=sessionid', 'sessionid=']) {
      expect(manager.openPresent(header, false)).toBeNull()
    }
    const opened = await manager.openPresent(`theme=dark; ${cookie}`, false)
    expect(opened?.id).toBe(made.id)
    expect(await opened?.get('n')).toBe(1)
    // A cookie whose signature fails is still present: a session without an id.
    const forged = await manager.openPresent(`${cookie.slice(0, -2)}xx`, false)
    expect(forged?.id).toBeNull()
  })

  it('openWithoutCookie gives a working new session, Secure by transport', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend })
    const session = manager.openWithoutCookie({ protocol: 'https' })
    expect(session.id).toBeNull()
    expect(session.untouched).toBe(true)
    session.set('a', 1)
    expect(session.untouched).toBe(false)
    const result = await session.commit()
    expect(result.reason).toBe('create')
    expect(result.setCookie).toContain('Secure')
    expect(await backend.load(session.id!)).not.toBeNull()
  })

  it('untouched turns false on a read, a destroy, a regenerate, or a stale signature', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({
      backend,
      secrets: ['new-secret-0123456789abcdef', 'old-secret-0123456789abcdef'],
    })
    const read = manager.openWithoutCookie({})
    await read.get('x')
    expect(read.untouched).toBe(false)
    const destroyed = manager.openWithoutCookie({})
    destroyed.destroy()
    expect(destroyed.untouched).toBe(false)
    const regenerated = manager.openWithoutCookie({})
    regenerated.regenerate()
    expect(regenerated.untouched).toBe(false)
    const old = createSessionManager({ backend, secrets: ['old-secret-0123456789abcdef'] })
    const s = await old.open({})
    s.set('a', 1)
    const cookie = (await s.commit()).setCookie!.split(';')[0]!
    expect((await manager.open({ cookie })).untouched).toBe(false)
  })
})

describe("a signed cookie's id", () => {
  const secret = 'id-check-secret-0123456789abcdef'
  /** Django's format, counting its checks. */
  function countingFormat() {
    const checks: string[] = []
    const idFormat: IdFormat = {
      generate: () => djangoIdFormat.generate(),
      validate: (id) => {
        checks.push(id)
        return djangoIdFormat.validate(id)
      },
    }
    return { idFormat, checks }
  }

  it("is refused at startup when its format's ids would need escaping in the cookie", () => {
    const formats: IdFormat[] = [
      alphabetIdFormat({ alphabet: 'abcdefghijklmnopqrstuvwxyz+/', length: 32 }),
      alphabetIdFormat({ alphabet: 'αβγδεζηθικλμνξοπρστυφχψω', length: 30 }),
      { generate: () => `${djangoIdFormat.generate()} x`, validate: () => true },
    ]
    for (const idFormat of formats) {
      for (const secrets of [[secret], undefined]) {
        expect(() => createSessionManager({ backend: memoryBackend({ idFormat }), secrets })).toThrow(
          SessionConfigError,
        )
      }
    }
    // Cookie-safe formats, built in or an app's own, start.
    for (const idFormat of [
      alphabetIdFormat({ alphabet: 'abcdefghijklmnop._~-', length: 32 }),
      { generate: () => djangoIdFormat.generate(), validate: (id: string) => djangoIdFormat.validate(id) },
    ]) {
      expect(createSessionManager({ backend: memoryBackend({ idFormat }) }).backend.idFormat).toBe(idFormat)
    }
  })

  it('that the format refuses is no session, on every request, though its signature is good', async () => {
    const { idFormat, checks } = countingFormat()
    const backend = memoryBackend({ idFormat })
    const manager = createSessionManager({ backend, secrets: [secret] })
    const forged = 'NOT_DJANGO_FORMAT_but_32_chars_!'
    const cookie = `sessionid=${await createSigner([secret]).sign(forged)}`
    for (let i = 0; i < 3; i++) {
      const session = await manager.open({ cookie })
      expect(session.id).toBeNull()
      expect(await session.get('a')).toBeUndefined()
    }
    expect(checks).toEqual([forged, forged, forged])
  })
})

describe('what a save tells the backend the request read (ChangeSet.read)', () => {
  /** A memory backend that keeps the change set of each save; it asks for `read` unless told not to. */
  function recording(readBasis = true) {
    const backend = memoryBackend()
    backend.capabilities.readBasis = readBasis
    const saves: ChangeSet[] = []
    const save = backend.save.bind(backend)
    backend.save = (id, changes, record) => {
      saves.push(changes)
      return save(id, changes, record)
    }
    return { backend, saves }
  }

  async function seeded(backend: SessionBackend) {
    const manager = createSessionManager<Record<string, unknown>>({ backend })
    const first = await manager.open({ cookie: null })
    first.set('count', 5)
    first.set('cart', { items: [1] })
    first.set('note', 'hi')
    const cookie = cookieOf((await first.commit()).setCookie)
    return { manager, cookie }
  }

  it('is the loaded JSON of each key read, then changed; a key written unread is left out', async () => {
    const { backend, saves } = recording()
    const { manager, cookie } = await seeded(backend)
    const session = await manager.open({ cookie })
    session.set('note', 'blind') // before the load: the request never saw its value
    session.set('count', ((await session.get('count')) as number) + 1)
    session.delete('gone')
    await session.commit()
    expect(saves.at(-1)?.read).toEqual({ count: '5', gone: null })
  })

  it('holds only the changed keys when an object was also read, changed in place or not', async () => {
    const { backend, saves } = recording()
    const { manager, cookie } = await seeded(backend)
    const session = await manager.open({ cookie })
    await session.get('cart') // an object: watched for in-place changes, unchanged here
    session.set('count', ((await session.get('count')) as number) + 1)
    await session.commit()
    expect(saves.at(-1)?.read).toEqual({ count: '5' })

    const again = await manager.open({ cookie })
    const cart = (await again.get('cart')) as { items: number[] }
    cart.items.push(2) // changed in place: commit finds it
    await again.commit()
    expect(saves.at(-1)?.set).toEqual({ cart: { items: [1, 2] } })
    expect(saves.at(-1)?.read).toEqual({ cart: '{"items":[1]}' })
  })

  it('is left out for a backend that does not declare capabilities.readBasis', async () => {
    const { backend, saves } = recording(false)
    const { manager, cookie } = await seeded(backend)
    const session = await manager.open({ cookie })
    session.set('count', ((await session.get('count')) as number) + 1)
    await session.commit()
    expect(saves.at(-1)?.set).toEqual({ count: 6 })
    expect(saves.at(-1)).not.toHaveProperty('read')
  })
})

describe('the data a backend hands over at load', () => {
  /** A memory backend whose `load` answers with `data` instead of its own copy. */
  function answering(data: Record<string, unknown>) {
    const backend = memoryBackend()
    const load = backend.load.bind(backend)
    backend.load = async (id) => {
      const record = await load(id)
      return record && { ...record, data }
    }
    return backend
  }

  async function cookieFor(backend: SessionBackend) {
    const manager = createSessionManager<Record<string, unknown>>({ backend })
    const first = await manager.open({ cookie: null })
    first.set('count', 1)
    return { manager, cookie: cookieOf((await first.commit()).setCookie) }
  }

  it('is copied when it is any object: what the backend keeps never changes', async () => {
    const kept: Record<string, unknown> = { count: 1 }
    const { manager, cookie } = await cookieFor(answering(kept))
    const session = await manager.open({ cookie })
    session.set('count', ((await session.get('count')) as number) + 1)
    session.delete('other')
    await session.commit()
    expect(kept).toEqual({ count: 1 })
  })

  it("is taken as the session's own when plainData() made it (no copy a load)", async () => {
    const fresh = plainData({ count: 1 })
    const { manager, cookie } = await cookieFor(answering(fresh))
    const session = await manager.open({ cookie })
    session.set('count', ((await session.get('count')) as number) + 1)
    expect(fresh.count).toBe(2)
    expect((await session.all()).count).toBe(2)
  })
})
