import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type BackendCallEvent,
  type CommitEvent,
  createSessionManager,
  DIAGNOSTICS_CHANNELS,
  memoryBackend,
  type SessionBackend,
  SessionBackendError,
} from '../src/index.ts'

const cookieOf = (setCookie: string | null) => setCookie?.split(';')[0] ?? ''

/** Collects what the two channels publish until the test ends. */
function listen() {
  const calls: BackendCallEvent[] = []
  const commits: CommitEvent[] = []
  const onCall = (message: unknown) => calls.push(message as BackendCallEvent)
  const onCommit = (message: unknown) => commits.push(message as CommitEvent)
  subscribe(DIAGNOSTICS_CHANNELS.backend, onCall)
  subscribe(DIAGNOSTICS_CHANNELS.commit, onCommit)
  stops.push(() => {
    unsubscribe(DIAGNOSTICS_CHANNELS.backend, onCall)
    unsubscribe(DIAGNOSTICS_CHANNELS.commit, onCommit)
  })
  return { calls, commits }
}
const stops: Array<() => void> = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
})

/** A backend whose every call fails, as a store that is down. */
function downBackend(): SessionBackend {
  const fail = async (): Promise<never> => {
    throw new Error('connect ECONNREFUSED 10.1.2.3:6379')
  }
  return {
    ...memoryBackend(),
    name: 'down',
    load: fail,
    create: fail,
    save: fail,
    touch: fail,
    destroy: fail,
  }
}

describe('diagnostics channels', () => {
  it('publish each backend call and each commit: name, operation, outcome, duration; never ids or data', async () => {
    const { calls, commits } = listen()
    const manager = createSessionManager<{ secretNote: string }>({ backend: memoryBackend() })
    const first = await manager.open({ cookie: null })
    first.set('secretNote', 'do-not-publish-me')
    const created = await first.commit()
    const cookie = cookieOf(created.setCookie)
    const id = cookie.split('=')[1]!

    const second = await manager.open({ cookie })
    expect(await second.get('secretNote')).toBe('do-not-publish-me')
    await second.commit() // a read: no commit event (nothing to do)
    const unknown = await manager.open({ cookie: `sessionid=${'a'.repeat(32)}` })
    await unknown.get('secretNote')

    expect(calls.map((c) => `${c.operation}:${c.outcome}`)).toEqual(['create:ok', 'load:ok', 'load:miss'])
    for (const call of calls) {
      expect(call.backend).toBe('memory')
      expect(call.durationMs).toBeGreaterThanOrEqual(0)
    }
    expect(commits).toEqual([
      { backend: 'memory', reason: 'create', outcome: 'ok', durationMs: expect.any(Number), dropped: false },
    ])
    const published = JSON.stringify([calls, commits])
    expect(published).not.toContain(id)
    expect(published).not.toContain('do-not-publish-me')
  })

  it('report a failed call as error and a slow one as timeout, by class name only', async () => {
    const { calls } = listen()
    const down = createSessionManager({ backend: downBackend() })
    const session = await down.open({ cookie: `sessionid=${'b'.repeat(32)}` })
    await expect(session.get('x')).rejects.toBeInstanceOf(SessionBackendError)
    expect(calls).toEqual([
      {
        backend: 'down',
        operation: 'load',
        outcome: 'error',
        durationMs: expect.any(Number),
        errorName: 'SessionBackendError',
      },
    ])
    expect(JSON.stringify(calls)).not.toContain('10.1.2.3')

    const slow: SessionBackend = { ...memoryBackend(), name: 'slow', load: () => new Promise(() => {}) }
    const timed = createSessionManager({ backend: slow, timeout: 20 })
    const waiting = await timed.open({ cookie: `sessionid=${'c'.repeat(32)}` })
    await expect(waiting.get('x')).rejects.toThrow(/no answer within 20 ms/)
    expect(calls[1]).toMatchObject({
      backend: 'slow',
      operation: 'load',
      outcome: 'timeout',
      errorName: 'SessionTimeoutError',
    })
  })

  it("count and report the writes the 'continue' policy drops", async () => {
    const { commits } = listen()
    const warnings: string[] = []
    const manager = createSessionManager({
      backend: downBackend(),
      onBackendError: 'continue',
      logger: { warn: (message: string) => warnings.push(message) },
    })
    for (let i = 0; i < 3; i++) {
      const session = await manager.open({ cookie: `sessionid=${'d'.repeat(32)}` })
      session.set('n', i)
      await session.commit()
    }
    expect(manager.stats.droppedWrites).toBe(3)
    expect(commits.map((c) => [c.reason, c.dropped])).toEqual([
      ['degraded', true],
      ['degraded', true],
      ['degraded', true],
    ])
    expect(warnings.at(-1)).toMatch(/3 dropped since start/)
    // A read-only request under the same outage drops nothing and is not counted.
    const reader = await manager.open({ cookie: `sessionid=${'d'.repeat(32)}` })
    await reader.get('n')
    await reader.commit()
    expect(manager.stats.droppedWrites).toBe(3)
  })
})
