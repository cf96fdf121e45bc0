import { describe, expect, it } from 'vitest'
import { createSigner, timingSafeEqual } from '../src/adapter.ts'
import { createSessionManager, memoryBackend } from '../src/index.ts'

const OLD = 'old-secret-0123456789abcdef'
const NEW = 'new-secret-0123456789abcdef'

describe('createSigner', () => {
  it('signs with the first secret and verifies with any, flagging old ones for renewal', async () => {
    const old = createSigner([OLD])
    const rotated = createSigner([NEW, OLD])
    const signedOld = await old.sign('abc')
    expect(signedOld).toMatch(/^abc\.[A-Za-z0-9_-]{43}$/)
    expect(await rotated.unsign(signedOld)).toEqual({ value: 'abc', renew: true })
    expect(await rotated.unsign(await rotated.sign('abc'))).toEqual({ value: 'abc', renew: false })
    expect(await createSigner([NEW]).unsign(signedOld)).toEqual({ value: null, renew: false })
  })

  it('answers a remembered signature synchronously, and nothing for a value never signed', async () => {
    const signer = createSigner([NEW])
    expect(signer.signed?.('abc')).toBeUndefined()
    const signed = await signer.sign('abc')
    expect(signer.signed?.('abc')).toBe(signed)
    expect(signer.signed?.('abd')).toBeUndefined()
    const forgetful = createSigner([NEW], 'core', 0)
    expect(await forgetful.sign('abc')).toBe(signed)
    expect(forgetful.signed?.('abc')).toBeUndefined()
  })

  it('rejects forged, truncated and malformed values without throwing', async () => {
    const signer = createSigner([NEW])
    const good = await signer.sign('abc')
    const bad = [
      `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
      good.slice(0, -1),
      `x${good}`,
      'abc',
      '.',
      '',
      `abc.${'A'.repeat(43)}`,
      'a'.repeat(10_000),
    ]
    for (const value of bad)
      expect(await signer.unsign(value), value.slice(0, 40)).toEqual({ value: null, renew: false })
  })

  it('refuses empty or short secrets at startup', () => {
    expect(() => createSigner([])).toThrow(/option "secrets"/)
    expect(() => createSigner(['short'])).toThrow(/16 characters/)
  })
})

describe('timingSafeEqual', () => {
  it('compares by content and length', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true)
    expect(timingSafeEqual('abc', 'abd')).toBe(false)
    expect(timingSafeEqual('abc', 'abcd')).toBe(false)
    expect(timingSafeEqual('', '')).toBe(true)
    expect(timingSafeEqual('é', 'e')).toBe(false)
  })
})

describe('secret rotation through the lifecycle', () => {
  it('accepts a cookie signed with an old secret, re-issues it signed with the new one, refuses it after removal', async () => {
    const backend = memoryBackend()
    const before = createSessionManager({ backend, secrets: [OLD] })
    const s1 = await before.open({})
    s1.set('a', 1)
    const oldCookie = (await s1.commit()).setCookie!.split(';')[0]!

    const rotated = createSessionManager({ backend, secrets: [NEW, OLD] })
    const s2 = await rotated.open({ cookie: oldCookie })
    expect(await s2.get('a')).toBe(1)
    const renewed = await s2.commit()
    expect(renewed.reason).toBe('renew')
    const newCookie = renewed.setCookie!.split(';')[0]!
    expect(newCookie).not.toBe(oldCookie)
    expect(newCookie.split('=')[1]!.split('.')[0]).toBe(oldCookie.split('=')[1]!.split('.')[0])

    const after = createSessionManager({ backend, secrets: [NEW] })
    expect(await (await after.open({ cookie: newCookie })).get('a')).toBe(1)
    const refused = await after.open({ cookie: oldCookie })
    expect(refused.id).toBeNull()
    expect(await refused.get('a')).toBeUndefined()
  })
})
