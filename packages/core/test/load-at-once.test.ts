import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { type ChangeSet, type LoadAtOnce, settlingAtOnce } from '../src/adapter.ts'
import {
  createSessionManager,
  memoryBackend,
  type SessionBackend,
  SessionBackendError,
  type SessionManager,
  type SessionRecord,
} from '../src/index.ts'
import { settlesInItsTurn } from '../src/testing/index.ts'

/** A new session holding `data`, committed: its cookie (`name=value`). */
async function cookieWith(manager: SessionManager, data: Record<string, unknown>): Promise<string> {
  const session = await manager.open({ cookie: null })
  for (const [key, value] of Object.entries(data)) session.set(key, value)
  return (await session.commit()).setCookie?.split(';')[0] ?? ''
}

/**
 * A memory backend holding one session (`count: 1`), and a `loadAtOnce` that answers from it, or
 * as `answer` says: the backend's `load` and the at-once load count their calls.
 */
async function seeded(answer?: (id: string) => SessionRecord | null | undefined) {
  const inner = memoryBackend()
  const cookie = await cookieWith(createSessionManager({ backend: inner }), { count: 1 })
  const calls = { load: 0, atOnce: 0 }
  const backend: SessionBackend = {
    ...inner,
    load: (id) => {
      calls.load++
      return inner.load(id)
    },
  }
  const stored = await inner.load(cookie.slice(cookie.indexOf('=') + 1))
  expect(stored?.data.count).toBe(1)
  const loadAtOnce: LoadAtOnce = (id) => {
    calls.atOnce++
    return answer ? answer(id) : stored && { ...stored, data: { ...stored.data } }
  }
  return { backend: settlingAtOnce(backend, loadAtOnce), cookie, calls }
}

describe("a backend's load answered at once (settlingAtOnce's loadAtOnce)", () => {
  it("takes the record in the read's own turn, without the backend's load", async () => {
    const { backend, cookie, calls } = await seeded()
    const session = await createSessionManager({ backend }).open({ cookie })
    const read = session.get('count')
    expect(await settlesInItsTurn(read)).toBe(true)
    expect(await read).toBe(1)
    session.set('count', 2)
    await session.commit()
    expect(calls).toEqual({ load: 0, atOnce: 1 })
  })

  it("awaits the backend's load when the answer must wait (undefined)", async () => {
    const { backend, cookie, calls } = await seeded(() => undefined)
    const session = await createSessionManager({ backend }).open({ cookie })
    const read = session.get('count')
    expect(await settlesInItsTurn(read)).toBe(false)
    expect(await read).toBe(1)
    expect(calls).toEqual({ load: 1, atOnce: 1 })
  })

  it('fails the read with a typed error, and tries again on the next read (the fail policy)', async () => {
    let fail = true
    const { backend, cookie, calls } = await seeded(() => {
      if (fail) throw new Error('SQLITE_IOERR')
      return null
    })
    const session = await createSessionManager({ backend }).open({ cookie })
    const error = await session.get('count').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
    expect((error as SessionBackendError).cause).toEqual(new Error('SQLITE_IOERR'))
    fail = false
    expect(await session.get('count')).toBeUndefined()
    expect(calls).toEqual({ load: 0, atOnce: 2 })
  })

  it('goes on with an empty read-only session (the continue policy)', async () => {
    const { backend, cookie } = await seeded(() => {
      throw new Error('SQLITE_IOERR')
    })
    const warnings: string[] = []
    const logger = { warn: (message: string) => warnings.push(message), error: () => {} }
    const session = await createSessionManager({ backend, onBackendError: 'continue', logger }).open({
      cookie,
    })
    expect(await session.get('count')).toBeUndefined()
    expect(session.degraded).toBe(true)
    expect(warnings.join()).toMatch(/SQLITE_IOERR.*empty read-only session/)
  })

  it('is passed by for a load replaced or wrapped since, and while the diagnostics channel has subscribers', async () => {
    const { backend, cookie, calls } = await seeded()
    const manager = createSessionManager({ backend })
    const events: unknown[] = []
    const listener = (event: unknown) => events.push(event)
    subscribe('sessionbridge:backend', listener)
    try {
      expect(await (await manager.open({ cookie })).get('count')).toBe(1)
    } finally {
      unsubscribe('sessionbridge:backend', listener)
    }
    expect(calls).toEqual({ load: 1, atOnce: 0 })
    expect(events).toHaveLength(1)

    let replaced = 0
    const load = backend.load
    backend.load = (id) => {
      replaced++
      return load(id)
    }
    expect(await (await manager.open({ cookie })).get('count')).toBe(1)
    expect(replaced).toBe(1)
    expect(calls.atOnce).toBe(0)
  })

  it("is the memory backend's own: a returning visitor's read settles in its turn", async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend })
    const cookie = await cookieWith(manager, { count: 1 })
    const session = await manager.open({ cookie })
    const read = session.get('count')
    expect(await settlesInItsTurn(read)).toBe(true)
    expect(await read).toBe(1)
  })
})

describe('the change set a save hands its backend', () => {
  /** A memory backend whose saves read their change set only after `ms`, and keep what they read. */
  function slowReading(ms: number) {
    const backend = memoryBackend()
    const save = backend.save.bind(backend)
    const seen: { set: Record<string, unknown>; deleted: string[]; json: string }[] = []
    backend.save = async (id, changes: ChangeSet, record) => {
      await new Promise((resolve) => setTimeout(resolve, ms))
      seen.push({ set: { ...changes.set }, deleted: [...changes.deleted], json: JSON.stringify(changes) })
      return save(id, changes, record)
    }
    return { backend, seen }
  }

  it('holds the changes as the commit began, read when the backend first asks', async () => {
    const { backend, seen } = slowReading(20)
    const manager = createSessionManager({ backend })
    const cookie = await cookieWith(manager, { a: 1, b: 1 })

    const session = await manager.open({ cookie })
    await session.get('a')
    session.set('a', 2)
    session.delete('b')
    // An update of `c` that ends during the commit: it takes `c` out of the session's pending
    // changes, not out of the change set the commit already handed over.
    const updated = session.update('c', () => 3)
    session.set('c', 5)
    const committed = session.commit()
    await updated
    await committed
    expect(seen.at(-1)?.set).toEqual({ a: 2, c: 5 })
    expect(seen.at(-1)?.deleted).toEqual(['b'])
    expect(JSON.parse(seen.at(-1)!.json)).toMatchObject({ set: { a: 2, c: 5 }, deleted: ['b'] })
  })
})
