// Forms newer Django versions write, which core honours for every store (the Django package checks
// them against the real Django 4.2 and 5.2).
import { describe, expect, it } from 'vitest'
import { AUTH_SESSION_KEYS, RESERVED_KEYS } from '../src/adapter.ts'
import {
  createSessionManager,
  getUser,
  memoryBackend,
  memoryUserSource,
  type UserSource,
} from '../src/index.ts'

const maxAgeOf = (setCookie: string | null) => Number(/Max-Age=(\d+)/i.exec(setCookie ?? '')?.[1])
const idOf = (setCookie: string | null) => /=([^;]*)/.exec(setCookie ?? '')?.[1] ?? null

describe('Django 4.1+ forms', () => {
  it('an ISO datetime in _session_expiry is an absolute expiry that no write moves', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend, touchInterval: 1 })
    const at = Math.floor(Date.now() / 1000) * 1000 + 3_600_000
    const first = await manager.open({})
    first.set(RESERVED_KEYS.expiry, new Date(at).toISOString().replace('Z', '+00:00'))
    first.set('n', 1)
    const created = await first.commit()
    expect(Math.abs(maxAgeOf(created.setCookie) - 3600)).toBeLessThanOrEqual(2)
    const id = idOf(created.setCookie)!
    expect((await backend.load(id))?.expiresAt).toBe(at)
    const again = await manager.open({ cookie: `sessionid=${id}` })
    again.set('n', 2)
    again.touch()
    await again.commit()
    expect((await backend.load(id))?.expiresAt).toBe(at) // before: now + 14 days
    // Anything that is not a datetime is not an absolute expiry: the default applies.
    const odd = await manager.open({})
    odd.set(RESERVED_KEYS.expiry, 'next tuesday' as never)
    odd.set('n', 1)
    expect(maxAgeOf((await odd.commit()).setCookie)).toBe(1_209_600)
  })

  it('a session hash valid under a fallback secret only re-issues the session with the current hash', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend })
    const base = memoryUserSource({ users: [{ id: 1, username: 'ann', password: 'pw' }], iterations: 1000 })
    const users: UserSource = {
      ...base,
      sessionHash: async () => 'current',
      verifySessionHash: async (_user, hash) =>
        hash === 'current' ? true : hash === 'old' ? 'fallback' : false,
    }
    const first = await manager.open({})
    first.set(AUTH_SESSION_KEYS.userId, '1')
    first.set(AUTH_SESSION_KEYS.hash, 'old')
    first.set('cart', [1])
    const oldId = idOf((await first.commit()).setCookie)!
    const session = await manager.open({ cookie: `sessionid=${oldId}` })
    expect((await getUser(session, users))?.username).toBe('ann')
    const newId = idOf((await session.commit()).setCookie)!
    expect(newId).not.toBe(oldId)
    expect(await backend.load(oldId)).toBeNull()
    expect((await backend.load(newId))?.data).toMatchObject({
      [AUTH_SESSION_KEYS.hash]: 'current',
      cart: [1],
    })
  })
})
