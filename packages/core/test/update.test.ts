import { describe, expect, it } from 'vitest'
import {
  createSessionManager,
  memoryBackend,
  type SessionBackend,
  SessionConflictError,
  SessionError,
  SessionTimeoutError,
} from '../src/index.ts'

const increment = (n: number | undefined) => (n ?? 0) + 1
type Data = { count: number; other: string }

async function withCookie(backend: SessionBackend) {
  const manager = createSessionManager<Data>({ backend })
  const first = await manager.open({ protocol: 'https' })
  first.set('other', 'x')
  const { setCookie } = await first.commit()
  const cookie = setCookie!.split(';')[0]!
  return { manager, cookie }
}

describe('session.update()', () => {
  it('200 parallel requests of one session each get one of 1..200, and the store keeps 200', async () => {
    const { manager, cookie } = await withCookie(memoryBackend())
    const values = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const session = await manager.open({ cookie, protocol: 'https' })
        const value = await session.update('count', increment)
        await session.commit()
        return value
      }),
    )
    expect(values.sort((a, b) => a! - b!)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    const after = await manager.open({ cookie, protocol: 'https' })
    expect(await after.get('count')).toBe(200)
    expect(await after.get('other')).toBe('x')
  })

  it('combines the parallel updates of one process into a few backend calls; one failing function fails alone', async () => {
    const base = memoryBackend()
    let calls = 0
    const backend: SessionBackend = Object.create(base, {
      update: {
        value: async (...args: Parameters<NonNullable<SessionBackend['update']>>) => {
          calls++
          await new Promise((resolve) => setTimeout(resolve, 5)) // a store round trip
          return base.update!(...args)
        },
      },
    })
    const { manager, cookie } = await withCookie(backend)
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, async (_, i) => {
        const session = await manager.open({ cookie, protocol: 'https' })
        return session.update('count', (n) => {
          if (i === 7) throw new RangeError('only mine')
          return (n ?? 0) + 1
        })
      }),
    )
    const failed = outcomes.filter((o) => o.status === 'rejected')
    expect(failed).toHaveLength(1)
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError)
    const values = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value!] : []))
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 199 }, (_, i) => i + 1))
    expect(calls).toBeLessThanOrEqual(5)
    const after = await manager.open({ cookie, protocol: 'https' })
    expect(await after.get('count')).toBe(199)
  })

  it('tells the store the expiry is kept only when every caller of a combined call keeps it', async () => {
    let now = 1_000_000_000_000
    const base = memoryBackend({ now: () => now })
    const seen: Array<{ expiresAt: number; expiryKept?: boolean }> = []
    const backend: SessionBackend = Object.create(base, {
      update: {
        value: async (...args: Parameters<NonNullable<SessionBackend['update']>>) => {
          seen.push({ expiresAt: args[3].expiresAt, expiryKept: args[3].expiryKept })
          await new Promise((resolve) => setTimeout(resolve, 5))
          return base.update!(...args)
        },
      },
    })
    const manager = createSessionManager<Data>({ backend, now: () => now })
    const first = await manager.open({ protocol: 'https' })
    first.set('other', 'x')
    const cookie = (await first.commit()).setCookie!.split(';')[0]!
    const stored = now + 1_209_600_000
    now += 30_000
    const open = () => manager.open({ cookie, protocol: 'https' })
    const [a, b, c] = [await open(), await open(), await open()]
    await Promise.all([a.load(), b.load(), c.load()])
    b.touch() // this one moves the expiry; the last caller of its combined call keeps it
    const running = a.update('count', increment) // alone in its call
    await Promise.all([running, b.update('count', increment), c.update('count', increment)])
    expect(seen).toEqual([
      { expiresAt: stored, expiryKept: true },
      { expiresAt: now + 1_209_600_000, expiryKept: false },
    ])
  })

  it('bounds each caller by `timeout` in all: a hung store call and the callers queued behind it', async () => {
    const base = memoryBackend()
    let hang = true
    const backend: SessionBackend = Object.create(base, {
      update: {
        value: (...args: Parameters<NonNullable<SessionBackend['update']>>) =>
          hang ? new Promise(() => {}) : base.update!(...args),
      },
    })
    const { cookie } = await withCookie(backend)
    const manager = createSessionManager<Data>({ backend, timeout: 60 })
    const ran: number[] = []
    const started = performance.now()
    const outcomes = await Promise.allSettled(
      [0, 1, 2].map(async (i) => {
        const session = await manager.open({ cookie, protocol: 'https' })
        return session.update('count', (n) => {
          ran.push(i)
          return (n ?? 0) + 1
        })
      }),
    )
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected'])
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(SessionTimeoutError)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(ran, 'a queued function ran after its caller had timed out').toEqual([])
    // The queue is free again: the next caller reaches the store.
    hang = false
    const session = await manager.open({ cookie, protocol: 'https' })
    expect(await session.update('count', increment)).toBe(1)
  })

  it('runs locally for a session with no record yet, which commit then creates', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager<Data>({ backend })
    const session = await manager.open({ protocol: 'https' })
    expect(await session.update('count', increment)).toBe(1)
    expect(await session.update('count', increment)).toBe(2)
    const { reason, setCookie } = await session.commit()
    expect(reason).toBe('create')
    const again = await manager.open({ cookie: setCookie!.split(';')[0]!, protocol: 'https' })
    expect(await again.get('count')).toBe(2)
  })

  it('keeps the request’s other pending changes and supersedes a pending set of the same key', async () => {
    const { manager, cookie } = await withCookie(memoryBackend())
    const session = await manager.open({ cookie, protocol: 'https' })
    session.set('other', 'mine')
    session.set('count', 100)
    expect(await session.update('count', increment)).toBe(1)
    expect(await session.get('other')).toBe('mine')
    await session.commit()
    const after = await manager.open({ cookie, protocol: 'https' })
    expect(await after.get('count')).toBe(1)
    expect(await after.get('other')).toBe('mine')
  })

  it('passes the app’s own exception through and writes nothing', async () => {
    const { manager, cookie } = await withCookie(memoryBackend())
    const session = await manager.open({ cookie, protocol: 'https' })
    const boom = new TypeError('app bug')
    await expect(
      session.update('count', () => {
        throw boom
      }),
    ).rejects.toBe(boom)
  })

  it('refuses a backend without capabilities.update and never calls its update()', async () => {
    let asked = 0
    const base = memoryBackend()
    const backend: SessionBackend = Object.create(base, {
      capabilities: { value: { ...base.capabilities, update: false } },
      update: { value: async () => ++asked && null },
    })
    const { manager, cookie } = await withCookie(backend)
    const session = await manager.open({ cookie, protocol: 'https' })
    await expect(session.update('count', increment)).rejects.toBeInstanceOf(SessionError)
    expect(asked).toBe(0)
  })

  it('lets a SessionConflictError from the store reach the caller (frameworks answer 409)', async () => {
    const base = memoryBackend()
    const backend: SessionBackend = Object.create(base, {
      update: {
        value: async (_id: string, key: string, _fn: unknown, o: { maxAttempts: number }) => {
          throw new SessionConflictError('memory', key, o.maxAttempts)
        },
      },
    })
    const { manager, cookie } = await withCookie(backend)
    const session = await manager.open({ cookie, protocol: 'https' })
    const error = await session.update('count', increment).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionConflictError)
    expect((error as SessionConflictError).attempts).toBe(10) // the updateAttempts default
    expect((error as SessionConflictError).status).toBe(409)
  })

  it('carries on as a new session when the record went away meanwhile', async () => {
    const backend = memoryBackend()
    const { manager, cookie } = await withCookie(backend)
    const session = await manager.open({ cookie, protocol: 'https' })
    await session.load()
    await backend.destroy(cookie.split('=')[1]!)
    expect(await session.update('count', increment)).toBe(1)
    expect(await session.get('other')).toBeUndefined()
    expect((await session.commit()).reason).toBe('create')
  })
})
