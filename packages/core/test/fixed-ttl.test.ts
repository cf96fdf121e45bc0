import { describe, expect, it } from 'vitest'
import { createSessionManager, memoryBackend, type SessionBackend } from '../src/index.ts'

/**
 * A store that learns its capabilities from its server (`ready()`) and keeps each record's
 * lifetime fixed at create (`fixedTtl`), as rest-sessions against the original server: the
 * memory backend with those two declarations, counting the calls.
 */
function fixedTtlStore() {
  const inner = memoryBackend()
  const calls: string[] = []
  let readies = 0
  let capabilities = { ...inner.capabilities, fixedTtl: false }
  const backend: SessionBackend = {
    name: 'fixed',
    idFormat: inner.idFormat,
    get capabilities() {
      return capabilities
    },
    async ready() {
      readies++
      capabilities = { ...inner.capabilities, fixedTtl: true }
    },
    load(id) {
      calls.push('load')
      return inner.load(id)
    },
    create(id, record) {
      calls.push(`create:${Math.round((record.expiresAt - Date.now()) / 1000)}`)
      return inner.create(id, record)
    },
    save(id, changes, record) {
      calls.push('save')
      return inner.save(id, changes, record)
    },
    touch(id, expiresAt) {
      calls.push('touch')
      return inner.touch(id, expiresAt)
    },
    destroy(id) {
      calls.push('destroy')
      return inner.destroy(id)
    },
  }
  return { backend, calls, readies: () => readies }
}

const cookieOf = (setCookie: string | null) => setCookie?.split(';')[0] ?? ''

describe('a store with a fixed ttl', () => {
  it('re-creates the session when its max age changes: new id, data kept, old one destroyed', async () => {
    const store = fixedTtlStore()
    const manager = createSessionManager({ backend: store.backend, maxAge: 3600 })
    const first = await manager.open({ cookie: null })
    first.set('cart', [1])
    const created = await first.commit()
    const session = await manager.open({ cookie: cookieOf(created.setCookie) })
    session.setMaxAge(86_400)
    const result = await session.commit()
    expect(result.reason).toBe('regenerate')
    expect(session.id).not.toBe(first.id)
    expect(result.setCookie).toContain('Max-Age=86400')
    expect(store.calls.slice(1)).toEqual(['load', 'create:86400', 'destroy'])
    expect(await store.backend.load(first.id!)).toBeNull()
    expect((await store.backend.load(session.id!))?.data.cart).toEqual([1])
    expect(store.readies()).toBe(1) // asked only where a capability decides
  })

  it('keeps the id when the max age is set to what it already is, or nothing about it changes', async () => {
    const store = fixedTtlStore()
    const manager = createSessionManager({ backend: store.backend, maxAge: 3600 })
    const first = await manager.open({ cookie: null })
    first.set('n', 0)
    first.setMaxAge(600)
    const created = await first.commit()
    const again = await manager.open({ cookie: cookieOf(created.setCookie) })
    again.setMaxAge(600)
    again.set('n', 1)
    expect((await again.commit()).reason).toBe('save')
    expect(again.id).toBe(first.id)
    expect(store.readies()).toBe(0)
  })
})
