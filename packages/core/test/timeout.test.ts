import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { SessionBackendError, SessionDataError, SessionTimeoutError } from '../src/index.ts'
import { promptThen } from '../src/prompt-then.ts'
import { boundedCall, boundedThen, DeadlineQueue } from '../src/timeout.ts'

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms))
const never = () => new Promise<never>(() => {})
const outcome = (pending: Promise<unknown>) =>
  pending.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )

// Calls of one timeout length share one timer (timeout.ts): these check that sharing it never
// times out a call early or late, nor lets one call's answer settle another.
describe('boundedCall', () => {
  it('times out hanging calls and answers settled ones, in any order, under one timeout', async () => {
    const ms = 137 // a length no other test uses: its own queue
    const started = performance.now()
    const calls = [
      outcome(boundedCall('t', 'a', ms, never)),
      outcome(boundedCall('t', 'b', ms, () => later(60, 'b'))),
      outcome(boundedCall('t', 'c', ms, () => later(5, 'c'))),
      outcome(boundedCall('t', 'd', ms, never)),
      outcome(boundedCall('t', 'e', ms, () => later(400, 'e'))),
    ]
    const [a, b, c, d, e] = await Promise.all(calls)
    expect(performance.now() - started).toBeGreaterThanOrEqual(ms - 2)
    expect(b).toEqual({ value: 'b' })
    expect(c).toEqual({ value: 'c' })
    for (const [result, operation] of [
      [a, 'a'],
      [d, 'd'],
      [e, 'e'],
    ] as const) {
      const error = (result as { error: unknown }).error
      expect(error).toBeInstanceOf(SessionTimeoutError)
      expect(error).toMatchObject({ backend: 't', operation, timeoutMs: ms })
    }
  })

  it("a call started later is not timed out at an earlier call's deadline", async () => {
    const ms = 200
    const first = outcome(boundedCall('t', 'first', ms, never))
    await later(120, null)
    // Answers at about 220 ms, after the first call's deadline (200 ms), within its own (320 ms).
    const second = outcome(boundedCall('t', 'second', ms, () => later(100, 'second')))
    expect(((await first) as { error: unknown }).error).toBeInstanceOf(SessionTimeoutError)
    expect(await second).toEqual({ value: 'second' })
  })

  it('a call started after the others settled gets its own full time, and still times out', async () => {
    const ms = 90
    expect(await boundedCall('t', 'first', ms, () => later(10, 1))).toBe(1)
    await later(ms * 2, null) // the queue is empty and its timer has long fired or never run
    const started = performance.now()
    const late = await outcome(boundedCall('t', 'late', ms, never))
    const waited = performance.now() - started
    expect((late as { error: unknown }).error).toBeInstanceOf(SessionTimeoutError)
    expect(waited).toBeGreaterThanOrEqual(ms - 2)
    expect(waited).toBeLessThan(ms + 500)
  })

  it('does not time out a call that answers within its time, however many share the queue', async () => {
    const ms = 250
    const results = await Promise.all(
      Array.from({ length: 3000 }, (_, i) => boundedCall('t', 'many', ms, () => later(i % 40, i))),
    )
    expect(results).toEqual(Array.from({ length: 3000 }, (_, i) => i))
  })

  it('wraps untyped failures and synchronous throws, and passes typed errors as they are', async () => {
    const data = new SessionDataError('t', 'too large')
    await expect(boundedCall('t', 'save', 100, () => Promise.reject(data))).rejects.toBe(data)
    const io = await outcome(boundedCall('t', 'save', 100, () => Promise.reject(new Error('ECONNRESET'))))
    expect((io as { error: unknown }).error).toBeInstanceOf(SessionBackendError)
    expect((io as { error: SessionBackendError }).error.message).toContain('ECONNRESET')
    const thrown = await outcome(
      boundedCall('t', 'load', 100, () => {
        throw new TypeError('bad')
      }),
    )
    expect((thrown as { error: SessionBackendError }).error.cause).toBeInstanceOf(TypeError)
  })
})

// boundedThen is boundedCall(...).then(onValue, onFailure) in one promise (a session's load and save).
describe('boundedThen', () => {
  const mapped = (call: () => Promise<unknown>, ms = 100) =>
    outcome(
      boundedThen<unknown, { answered?: unknown; failed?: Error }>(
        't',
        'load',
        ms,
        call,
        (value) => ({ answered: value }),
        (error) => ({ failed: error }),
      ),
    )

  it('settles with what onValue or onFailure returns, typed errors and timeouts included', async () => {
    expect(await mapped(() => later(5, 7))).toEqual({ value: { answered: 7 } })
    const io = (await mapped(() => Promise.reject(new Error('ECONNRESET')))) as { value: { failed: Error } }
    expect(io.value.failed).toBeInstanceOf(SessionBackendError)
    const thrown = (await mapped(() => {
      throw new TypeError('bad')
    })) as { value: { failed: SessionBackendError } }
    expect(thrown.value.failed.cause).toBeInstanceOf(TypeError)
    const started = performance.now()
    const late = (await mapped(never, 53)) as { value: { failed: Error } }
    expect(late.value.failed).toBeInstanceOf(SessionTimeoutError)
    expect(performance.now() - started).toBeGreaterThanOrEqual(50)
  })

  it('rejects with what a callback throws, as it is, and calls each callback once', async () => {
    const mine = new Error('mine')
    let calls = 0
    const failing = (value: unknown) => {
      calls++
      if (value !== undefined) throw mine
      return value
    }
    await expect(boundedThen('t', 'save', 100, () => later(1, true), failing, failing)).rejects.toBe(mine)
    await expect(boundedThen('t', 'save', 40, never, failing, failing)).rejects.toBe(mine)
    expect(calls).toBe(2)
  })

  it('publishes the outcome on sessionbridge:backend, then maps it', async () => {
    const events: { operation: string; outcome: string }[] = []
    const listener = (event: unknown) => events.push(event as { operation: string; outcome: string })
    subscribe('sessionbridge:backend', listener)
    try {
      expect(await mapped(() => later(1, null))).toEqual({ value: { answered: null } })
      const failed = (await mapped(() => Promise.reject(new Error('down')))) as { value: { failed: Error } }
      expect(failed.value.failed).toBeInstanceOf(SessionBackendError)
    } finally {
      unsubscribe('sessionbridge:backend', listener)
    }
    expect(events.map((e) => e.outcome)).toEqual(['miss', 'error'])
  })
})

// promptThen is boundedThen without the deadline (the memory backend's calls): the same answers.
describe('promptThen', () => {
  const mapped = (call: () => Promise<unknown>) =>
    outcome(
      promptThen<unknown, { answered?: unknown; failed?: Error }>(
        't',
        'load',
        100,
        call,
        (value) => ({ answered: value }),
        (error) => ({ failed: error }),
      ),
    )

  it('settles with what onValue or onFailure returns, with the errors typed as boundedThen types them', async () => {
    expect(await mapped(() => Promise.resolve(7))).toEqual({ value: { answered: 7 } })
    const io = (await mapped(() => Promise.reject(new Error('ECONNRESET')))) as { value: { failed: Error } }
    expect(io.value.failed).toBeInstanceOf(SessionBackendError)
    expect(io.value.failed.message).toMatch(/load/)
    const thrown = (await mapped(() => {
      throw new TypeError('bad')
    })) as { value: { failed: SessionBackendError } }
    expect(thrown.value.failed).toBeInstanceOf(SessionBackendError)
    expect(thrown.value.failed.cause).toBeInstanceOf(TypeError)
    const own = new SessionDataError('t', 'too large')
    expect(await mapped(() => Promise.reject(own))).toEqual({ value: { failed: own } })
  })

  it('rejects with what a callback throws, as it is', async () => {
    const mine = new Error('mine')
    const failing = () => {
      throw mine
    }
    await expect(promptThen('t', 'save', 100, () => Promise.resolve(true), failing, failing)).rejects.toBe(
      mine,
    )
    await expect(
      promptThen('t', 'save', 100, () => Promise.reject(new Error('x')), failing, failing),
    ).rejects.toBe(mine)
  })

  it('goes through boundedThen while the diagnostics channel has subscribers, which publishes the call', async () => {
    const events: { operation: string; outcome: string }[] = []
    const listener = (event: unknown) => events.push(event as { operation: string; outcome: string })
    subscribe('sessionbridge:backend', listener)
    try {
      expect(await mapped(() => Promise.resolve(null))).toEqual({ value: { answered: null } })
    } finally {
      unsubscribe('sessionbridge:backend', listener)
    }
    expect(events.map((e) => [e.operation, e.outcome])).toEqual([['load', 'miss']])
  })
})

describe('DeadlineQueue', () => {
  // The array's slots are written over once the queue empties (timeout.ts): a call added after
  // a thousand one-at-a-time calls and a small burst (slots reused), or after a large burst (its
  // array dropped), must still expire, and only it.
  it('expires the right calls after its slots were reused', async () => {
    const queue = new DeadlineQueue(40)
    const burst = (size: number) => {
      const calls = Array.from({ length: size }, () => queue.add(() => expect.unreachable()))
      for (const call of calls.reverse()) queue.settle(call)
    }
    burst(5000)
    for (let i = 0; i < 1000; i++) queue.settle(queue.add(() => expect.unreachable()))
    burst(100)
    const expired: string[] = []
    const hanging = queue.add(() => expired.push('hanging'))
    const answered = queue.add(() => expired.push('answered'))
    const last = queue.add(() => expired.push('last'))
    queue.settle(answered)
    await later(150, null)
    expect(expired).toEqual(['hanging', 'last'])
    expect(hanging.settled && last.settled).toBe(true)
  })

  // A call that settles behind an older, still pending one stays in the queue's array until the
  // head passes it; what its deadline held (the caller's promise, and with it the answer) must not.
  it('lets go of what a settled call held while an older call still waits', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const queue = new DeadlineQueue(60_000)
    const older = queue.add(() => {})
    const held = (() => {
      const answer = { rows: Array.from({ length: 64 }, (_, i) => i) }
      const pending = queue.add(() => void answer.rows.length)
      queue.settle(pending)
      return new WeakRef(answer)
    })()
    await later(0, null)
    gc()
    expect(held.deref()).toBeUndefined()
    queue.settle(older)
  })
})
