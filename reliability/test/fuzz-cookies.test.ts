import { createSessionManager, defaultIdFormat, memoryBackend } from '@sessionbridge/core'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { FUZZ_TIMEOUT, fuzzParams, hostileCookieHeader } from '../src/fuzz.ts'
import { spyBackend } from '../src/spy-backend.ts'

vi.setConfig({ testTimeout: FUZZ_TIMEOUT })

const quiet = { warn() {} }

/** Runs one request with `cookie`: read, maybe write, commit. Returns what the request threw, if anything. */
async function request(
  manager: ReturnType<typeof createSessionManager>,
  cookie: string,
  write: boolean,
): Promise<unknown> {
  try {
    const session = await manager.open({ cookie, protocol: 'http' })
    await session.get('x')
    if (write) session.set('x', 1)
    await session.commit()
    return null
  } catch (error) {
    return error
  }
}

describe('hostile cookies through createSessionManager', () => {
  it('unsigned ids: never throw, and no backend call with an id that failed validation', async () => {
    const { backend, calls } = spyBackend(memoryBackend())
    const manager = createSessionManager({ backend, logger: quiet })
    // One real session in the store, so some duplicated/garbled cookies sit next to a live id.
    const seed = await manager.open({ cookie: null })
    seed.set('x', 0)
    await seed.commit()
    await fc.assert(
      fc.asyncProperty(hostileCookieHeader(), fc.boolean(), async (cookie, write) => {
        calls.length = 0
        expect(await request(manager, cookie, write)).toBeNull()
        for (const call of calls) {
          if (call.id !== null)
            expect(defaultIdFormat.validate(call.id), `${call.method}(${call.id})`).toBe(true)
        }
      }),
      fuzzParams(),
    )
  })

  it('signed cookies: a forged or garbled signature never reaches the backend', async () => {
    const { backend, calls } = spyBackend(memoryBackend())
    const manager = createSessionManager({
      backend,
      secrets: ['a-secret-of-sixteen-chars-or-more'],
      logger: quiet,
    })
    await fc.assert(
      fc.asyncProperty(hostileCookieHeader(), fc.boolean(), async (cookie, write) => {
        calls.length = 0
        expect(await request(manager, cookie, write)).toBeNull()
        // Without a valid signature there is no id: the only call allowed is creating a fresh session.
        expect(calls.filter((c) => c.method !== 'create')).toEqual([])
        expect(calls.length).toBe(write ? 1 : 0)
      }),
      fuzzParams(),
    )
  })
})
