import { describe, expect, it } from 'vitest'
import { SessionDriver } from '../src/adapter.ts'
import { createSessionManager, memoryBackend, type Session } from '../src/index.ts'

// `settled` lets an adapter skip commit without a promise. It may say `false` when commit turns out
// to do nothing, never `true` when commit would call the backend or send a cookie.
describe('Session.settled', () => {
  const setup = async () => {
    let clock = Date.parse('2026-12-01T00:00:00Z')
    const backend = memoryBackend({ now: () => clock })
    const saves: string[] = []
    const watched = {
      ...backend,
      save: (...args: Parameters<typeof backend.save>) => {
        saves.push('save')
        return backend.save(...args)
      },
      touch: (...args: Parameters<typeof backend.touch>) => {
        saves.push('touch')
        return backend.touch(...args)
      },
    }
    const manager = createSessionManager({ backend: watched, now: () => clock, touchInterval: 60 })
    const first = await manager.open({ cookie: null })
    first.set('count', 1)
    first.set('profile', { name: 'a' })
    const cookie = (await first.commit()).setCookie!.split(';')[0]!
    return {
      manager,
      cookie,
      saves,
      advance: (seconds: number) => {
        clock += seconds * 1000
      },
    }
  }
  const ends = async (session: Session) => {
    const settled = session.settled
    const result = await session.commit()
    return { settled, reason: result.reason, cookie: result.setCookie }
  }

  it('is true for a request that only read plain values, and commit then does nothing', async () => {
    const { manager, cookie, saves } = await setup()
    const session = await manager.open({ cookie })
    expect(session.settled).toBe(true) // untouched
    expect(await session.get('count')).toBe(1)
    expect(await ends(session)).toEqual({ settled: true, reason: 'nothing', cookie: null })
    expect(saves).toEqual([])
    expect(session.settled).toBe(true) // committed
  })

  it('is false when commit has work: a change, a due touch, a gone session, a destroy', async () => {
    const { manager, cookie, advance } = await setup()
    const changed = await manager.open({ cookie })
    changed.set('count', 2)
    expect(await ends(changed)).toMatchObject({ settled: false, reason: 'save' })

    advance(61)
    const due = await manager.open({ cookie })
    await due.get('count')
    expect(await ends(due)).toMatchObject({ settled: false, reason: 'touch' })

    const gone = await manager.open({ cookie: 'sessionid=abcdefghijklmnopqrstuvwxyz012345' })
    await gone.get('count')
    expect(await ends(gone)).toMatchObject({ settled: false, reason: 'expired' })

    const destroyed = await manager.open({ cookie })
    await destroyed.get('count')
    destroyed.destroy()
    expect(await ends(destroyed)).toMatchObject({ settled: false, reason: 'destroy' })
  })

  it('is false for a read whose cookie must follow: a stale signature, touch(), an expiry update() moved', async () => {
    const OLD = 'an-old-secret-of-sufficient-length'
    const NEW = 'a-new-secret-of-sufficient-length'
    let clock = Date.parse('2026-12-01T00:00:00Z')
    const backend = memoryBackend({ now: () => clock })
    const options = { backend, now: () => clock, touchInterval: 60 }
    const old = createSessionManager({ ...options, secrets: [OLD] })
    const first = await old.open({ cookie: null })
    first.set('count', 1)
    const oldCookie = (await first.commit()).setCookie!.split(';')[0]!

    const rotated = createSessionManager({ ...options, secrets: [NEW, OLD] })
    const stale = await rotated.open({ cookie: oldCookie })
    expect(await stale.get('count')).toBe(1)
    expect(await ends(stale)).toMatchObject({ settled: false, reason: 'renew' })

    const touched = await old.open({ cookie: oldCookie })
    await touched.get('count')
    touched.touch()
    expect(await ends(touched)).toMatchObject({ settled: false, reason: 'touch' })

    clock += 61_000
    const updated = await old.open({ cookie: oldCookie })
    expect(await updated.update('count', (n) => Number(n) + 1)).toBe(2)
    expect(await ends(updated)).toMatchObject({ settled: false, reason: 'renew' })
  })

  it('is false once an object was handed out (it may change in place), and such a change is saved', async () => {
    const { manager, cookie, saves } = await setup()
    const session = await manager.open({ cookie })
    const profile = (await session.get('profile')) as { name: string }
    expect(session.settled).toBe(false)
    profile.name = 'b'
    expect(await ends(session)).toMatchObject({ settled: false, reason: 'save' })
    expect(saves).toEqual(['save'])
  })
})

describe('RequestSession.settled', () => {
  it('follows the session until finished', async () => {
    const backend = memoryBackend()
    const driver = new SessionDriver({ backend }, { package: 'core', frameworkProxyTrust: false })
    const state = driver.open(undefined, false)
    expect(state.settled).toBe(true)
    await state.session.get('x')
    expect(state.settled).toBe(true) // read, and no cookie named a session: nothing to do
    state.session.set('x', 1)
    expect(state.settled).toBe(false)
    expect(await state.finish()).toHaveLength(1)
    expect(state.settled).toBe(true) // finished
  })
})
