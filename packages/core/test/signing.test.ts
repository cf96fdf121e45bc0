import { describe, expect, it } from 'vitest'
import { createSigner, timingSafeEqual } from '../src/adapter.ts'
import { createSessionManager, memoryBackend } from '../src/index.ts'
import { nativeModules } from '../src/native.ts'

const OLD = 'old-secret-0123456789abcdef'
const NEW = 'new-secret-0123456789abcdef'

const native = nativeModules?.crypto ?? null
const paths = [
  ['Node crypto', native],
  ['Web Crypto', null],
] as const

describe.each(paths)('createSigner (%s)', (_name, through) => {
  const signer = (secrets: string[], cacheSize?: number) => createSigner(secrets, 'core', cacheSize, through)

  it('runs on the path it names', () => {
    // Node >= 20.16 has process.getBuiltinModule; without it the first path would test nothing.
    expect(native).not.toBeNull()
  })

  it('signs with the first secret and verifies with any, flagging old ones for renewal', async () => {
    const old = signer([OLD])
    const rotated = signer([NEW, OLD])
    const signedOld = await old.sign('abc')
    expect(signedOld).toMatch(/^abc\.[A-Za-z0-9_-]{43}$/)
    expect(await rotated.unsign(signedOld)).toEqual({ value: 'abc', renew: true })
    expect(await rotated.unsign(await rotated.sign('abc'))).toEqual({ value: 'abc', renew: false })
    expect(await signer([NEW]).unsign(signedOld)).toEqual({ value: null, renew: false })
  })

  it('rejects forged, truncated and malformed values without throwing', async () => {
    const s = signer([NEW])
    const good = await s.sign('abc')
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
    for (const value of bad) {
      expect(await s.unsign(value), value.slice(0, 40)).toEqual({ value: null, renew: false })
      // Forgeries are never remembered, whichever path answers synchronously.
      expect(s.verified?.(value) ?? NOTHING, value.slice(0, 40)).toEqual(through ? NO_VALUE : NOTHING)
    }
  })

  it('refuses empty or short secrets at startup', () => {
    expect(() => signer([])).toThrow(/option "secrets"/)
    expect(() => signer(['short'])).toThrow(/16 characters/)
  })
})

const NOTHING = 'nothing'
const NO_VALUE = { value: null, renew: false }

describe('createSigner: the two paths', () => {
  // Unicode, a lone surrogate (both encode it as U+FFFD), the separator inside the value, long input.
  const corpus = ['abc', 'é€😀', 'a\ud800b', 'x.y.z', 'k'.repeat(5000), '0123456789abcdefghijklmnopqrstuv']

  it('sign the same bytes, and each verifies the other', async () => {
    const web = createSigner([NEW, OLD], 'core', 10, null)
    const node = createSigner([NEW, OLD], 'core', 10, native)
    const oldWeb = createSigner([OLD], 'core', 10, null)
    for (const value of corpus) {
      const signed = await web.sign(value)
      expect(await node.sign(value), value.slice(0, 20)).toBe(signed)
      expect(await node.unsign(signed)).toEqual({ value, renew: false })
      expect(await web.unsign(await node.sign(value))).toEqual({ value, renew: false })
      expect(await node.unsign(await oldWeb.sign(value))).toEqual({ value, renew: true })
    }
  })

  it("Node's crypto answers synchronously, even what it never saw; Web Crypto only what it remembers", async () => {
    const node = createSigner([NEW], 'core', 0, native)
    const signed = node.signed?.('abc')
    expect(signed).toBe(await node.sign('abc'))
    expect(node.verified?.(signed!)).toEqual({ value: 'abc', renew: false })

    const web = createSigner([NEW], 'core', 10, null)
    expect(web.signed?.('abc')).toBeUndefined()
    expect(web.verified?.(signed!)).toBeUndefined()
    expect(await web.sign('abc')).toBe(signed)
    expect(web.signed?.('abc')).toBe(signed)
    expect(web.signed?.('abd')).toBeUndefined()
    expect(await web.unsign(signed!)).toEqual({ value: 'abc', renew: false })
    expect(web.verified?.(signed!)).toEqual({ value: 'abc', renew: false })
    const forgetful = createSigner([NEW], 'core', 0, null)
    expect(await forgetful.sign('abc')).toBe(signed)
    expect(forgetful.signed?.('abc')).toBeUndefined()
    expect(await forgetful.unsign(signed!)).toEqual({ value: 'abc', renew: false })
    expect(forgetful.verified?.(signed!)).toBeUndefined()
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
