import { expect, vi } from 'vitest'
import { createSessionManager } from '../manager.ts'
import type { SessionBackend } from '../types.ts'

/**
 * The timers a session's increment on `backend` arms: a record `{ n: 1 }` made, loaded, `n` set to
 * 2 and committed under fake timers. The `timeout` deadline arms one; a backend whose loads and
 * saves need none (`settlingAtOnce`) arms 0. `timeoutMs`: one no other test uses, so its deadline
 * queue starts with no timer armed. Checks the saved `n` after.
 */
export async function timersOfAnIncrement(backend: SessionBackend, timeoutMs: number): Promise<number> {
  vi.useFakeTimers({ toFake: ['setTimeout'] })
  try {
    const manager = createSessionManager({ backend, timeout: timeoutMs })
    const id = (await backend.create(backend.idFormat.generate(), {
      data: { n: 1 },
      expiresAt: Date.now() + 60_000,
      userId: null,
    }))!
    const session = await manager.open({ cookie: `sessionid=${id}` })
    session.set('n', ((await session.get('n')) as number) + 1)
    await session.commit()
    const armed = vi.getTimerCount()
    // Runs the armed deadline timer now (its calls have settled: it only disarms the queue), so the
    // shared queue of this timeout is not left holding a fake timer that never fires.
    vi.runOnlyPendingTimers()
    vi.useRealTimers()
    expect(await backend.load(id)).toMatchObject({ data: { n: 2 } })
    return armed
  } finally {
    vi.useRealTimers()
  }
}
