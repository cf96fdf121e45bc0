import {
  createSessionManager,
  type SessionBackend,
  SessionBackendError,
  type SessionManager,
  SessionTimeoutError,
} from '@sessionbridge/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from './fault-proxy.ts'

/** A backend under test, opened either through the fault proxy or straight to its server. */
export interface FaultTarget {
  /** Backend name, for test titles. */
  name: string
  /** The real server, `host:port` (a function when the server starts in a `beforeAll`). */
  server: string | (() => string)
  /** A backend whose client talks to `address` (`host:port`); reconnection left to the client. */
  open(address: string): Promise<{ backend: SessionBackend; close(): Promise<void> }>
  /**
   * The backend's own timeout, when it has one: a backend opened by `open(address, ms)` must fail
   * a black-holed call after about `ms` even though core's timeout is far away.
   */
  ownTimeout?: {
    ms: number
    open(address: string): Promise<{ backend: SessionBackend; close(): Promise<void> }>
  }
  /** Core's `timeout` for the managers under test, ms. @default 400 */
  timeout?: number
  /**
   * Slack on top of the timeout when asserting that a request never hangs past it, ms. Covers
   * the event loop on a loaded 2-core machine, not the backend. @default 1500
   */
  slack?: number
}

const quiet = { warn() {} }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** What one request saw. */
interface Outcome {
  elapsed: number
  error: unknown
  data: Record<string, unknown> | null
  degraded: boolean
  reason: string | null
}

/** One request: read everything, optionally write, commit. Never throws: failures are returned. */
export async function runRequest(
  manager: SessionManager,
  cookie: string | null,
  write?: Record<string, unknown>,
): Promise<Outcome> {
  const started = performance.now()
  const outcome: Outcome = { elapsed: 0, error: null, data: null, degraded: false, reason: null }
  try {
    const session = await manager.open({ cookie })
    outcome.data = await session.all()
    for (const [key, value] of Object.entries(write ?? {})) session.set(key, value)
    outcome.reason = (await session.commit()).reason
    outcome.degraded = session.degraded
  } catch (error) {
    outcome.error = error
  }
  outcome.elapsed = performance.now() - started
  return outcome
}

/** Retries `attempt` until it returns true (the client reconnecting on its own), or fails after `ms`. */
export async function eventually(attempt: () => Promise<boolean>, ms = 15_000): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < ms) {
    if (await attempt().catch(() => false)) return performance.now() - started
    await sleep(100)
  }
  throw new Error(`did not recover within ${ms} ms`)
}

/**
 * The fault scenarios of the issue, for one backend: black-holed, slowed, stopped mid-load and
 * restarted, reset. A fault proxy sits between the backend's client and its real server, so the
 * shared server itself is never stopped.
 */
export function describeFaults(target: FaultTarget): void {
  const timeout = target.timeout ?? 400
  const bound = timeout + (target.slack ?? 1500)
  describe(`${target.name}: backend faults through a fault proxy`, () => {
    let proxy: FaultProxy
    let proxied: { backend: SessionBackend; close(): Promise<void> }
    let direct: { backend: SessionBackend; close(): Promise<void> }
    let failing: SessionManager
    let continuing: SessionManager
    const seeded: { id: string; cookie: string; owner: string }[] = []
    const figures: Record<string, number> = {}

    /** Every seeded session still holds its owner and a counter: nothing lost, nothing emptied. */
    const expectSeedsIntact = async () => {
      for (const seed of seeded) {
        const record = await direct.backend.load(seed.id)
        expect(record, `session of ${seed.owner}`).not.toBeNull()
        expect(record!.data.owner).toBe(seed.owner)
        expect(typeof record!.data.n).toBe('number')
      }
    }
    const expectBoundedTypedFailure = (outcome: Outcome) => {
      expect(outcome.error).toBeInstanceOf(SessionBackendError)
      expect(outcome.elapsed).toBeLessThan(bound)
    }
    const recover = async () =>
      eventually(async () => {
        const outcome = await runRequest(failing, seeded[0]!.cookie)
        return outcome.error === null && outcome.data?.owner === seeded[0]!.owner
      })

    beforeAll(async () => {
      const server = typeof target.server === 'function' ? target.server() : target.server
      proxy = await createFaultProxy({ target: server })
      proxied = await target.open(proxy.address)
      direct = await target.open(server)
      failing = createSessionManager({
        backend: proxied.backend,
        timeout,
        onBackendError: 'fail',
        logger: quiet,
      })
      continuing = createSessionManager({
        backend: proxied.backend,
        timeout,
        onBackendError: 'continue',
        logger: quiet,
      })
      // Seeding is not under test: a patient manager, so a cold first connection cannot fail it.
      const seeder = createSessionManager({ backend: proxied.backend, timeout: 10_000, logger: quiet })
      for (let i = 0; i < 20; i++) {
        const owner = `owner-${i}`
        const session = await seeder.open({ cookie: null })
        session.set('owner', owner)
        session.set('n', 0)
        const setCookie = (await session.commit()).setCookie!
        const cookie = setCookie.split(';')[0]!
        seeded.push({ id: cookie.split('=')[1]!, cookie, owner })
      }
    })

    afterAll(async () => {
      proxy?.pass()
      for (const seed of seeded) await direct?.backend.destroy(seed.id).catch(() => {})
      await proxied?.close()
      await direct?.close()
      await proxy?.close()
      // The figures RELIABILITY.md quotes.
      console.info(`[reliability] ${target.name} fault figures ${JSON.stringify(figures)}`)
    })

    it('black-holed: fails closed (SessionTimeoutError) within the timeout, then recovers', async () => {
      proxy.blackhole()
      const outcome = await runRequest(failing, seeded[0]!.cookie)
      expectBoundedTypedFailure(outcome)
      expect(outcome.error).toBeInstanceOf(SessionTimeoutError)
      figures.blackholeFailMs = Math.round(outcome.elapsed)
      proxy.pass()
      figures.blackholeRecoveryMs = Math.round(await recover())
      await expectSeedsIntact()
    })

    it('slowed beyond the timeout: "continue" gives an empty read-only session that writes nothing', async () => {
      proxy.delay(timeout * 3)
      const seed = seeded[1]!
      const outcome = await runRequest(continuing, seed.cookie, { owner: 'intruder', n: -1 })
      expect(outcome.error).toBeNull()
      expect(outcome.degraded).toBe(true)
      expect(outcome.reason).toBe('degraded')
      expect(outcome.data).toEqual({})
      expect(outcome.elapsed).toBeLessThan(bound)
      figures.slowContinueMs = Math.round(outcome.elapsed)
      const failed = await runRequest(failing, seed.cookie, { n: 5 })
      expectBoundedTypedFailure(failed)
      proxy.delay(0)
      await recover()
      // The degraded write never happened; the stored data is intact.
      expect((await direct.backend.load(seed.id))?.data.owner).toBe(seed.owner)
      await expectSeedsIntact()
    })

    it('stopped mid-load and restarted: every request settles typed and bounded; recovery is automatic', async () => {
      let running = true
      const errors: unknown[] = []
      let slowest = 0
      let ok = 0
      const loops = seeded.map(async (seed, i) => {
        let n = 0
        while (running) {
          const outcome = await runRequest(i % 2 ? continuing : failing, seed.cookie, { n: ++n })
          slowest = Math.max(slowest, outcome.elapsed)
          if (outcome.error) errors.push(outcome.error)
          else ok++
          if (outcome.error || outcome.degraded) await sleep(20)
        }
      })
      await sleep(150)
      await proxy.stop()
      await sleep(800)
      await proxy.start()
      figures.restartRecoveryMs = Math.round(await recover())
      await sleep(200)
      running = false
      await Promise.all(loops)
      expect(ok).toBeGreaterThan(0)
      for (const error of errors) expect(error).toBeInstanceOf(SessionBackendError)
      expect(slowest).toBeLessThan(bound)
      figures.stopSlowestRequestMs = Math.round(slowest)
      figures.stopTypedErrors = errors.length
      await expectSeedsIntact()
    })

    // Registered only where the backend has a timeout of its own (a skipped test would fail CI's check).
    const own = target.ownTimeout
    if (own) {
      it("the backend's own timeout bounds a hung call when core's is far away", async () => {
        const opened = await own.open(proxy.address)
        try {
          const patient = createSessionManager({ backend: opened.backend, timeout: 60_000, logger: quiet })
          await runRequest(patient, seeded[3]!.cookie) // connect while the server still answers
          proxy.blackhole()
          const outcome = await runRequest(patient, seeded[3]!.cookie)
          expect(outcome.error).toBeInstanceOf(SessionBackendError)
          expect(outcome.elapsed).toBeLessThan(own.ms + (target.slack ?? 1500))
          figures.ownTimeoutFailMs = Math.round(outcome.elapsed)
        } finally {
          proxy.pass()
          await opened.close()
        }
        await recover()
      })
    }

    it('connections reset: typed errors, then recovery', async () => {
      proxy.reset()
      const outcome = await runRequest(failing, seeded[2]!.cookie, { n: 1 })
      expectBoundedTypedFailure(outcome)
      proxy.pass()
      await recover()
      await expectSeedsIntact()
    })
  })
}
