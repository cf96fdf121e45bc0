import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hmacKey } from '../src/hmac.ts'
import { nativeModules } from '../src/native.ts'

const inputs: (string | Uint8Array)[] = [
  '',
  'session-id',
  'ünïcödé ✓ \u{1F600}',
  'x'.repeat(5000),
  new Uint8Array([0, 255, 1, 254, 128]),
]
const keys: (string | Uint8Array)[] = ['bench-secret-0123456789abcdef', new Uint8Array(64).fill(7), 'ключ']

describe('hmacKey', () => {
  it('runs on Node through its crypto (synchronous answers)', () => {
    expect(nativeModules).not.toBeNull()
    const key = hmacKey('SHA-256', 'k')
    expect(key.sync).toBe(true)
    expect(typeof key.text('v', 'base64url')).toBe('string')
    expect(hmacKey('SHA-256', 'k', null).sync).toBe(false)
  })

  for (const hash of ['SHA-256', 'SHA-1'] as const) {
    it(`${hash}: both paths give Node's own HMAC, as bytes, base64url and padded base64`, async () => {
      const name = hash === 'SHA-256' ? 'sha256' : 'sha1'
      for (const key of keys) {
        const native = hmacKey(hash, key, nativeModules!.crypto)
        const web = hmacKey(hash, key, null)
        for (const input of inputs) {
          const expected = createHmac(name, key).update(input).digest()
          for (const path of [native, web]) {
            const bytes = await path.bytes(input)
            expect(bytes.constructor).toBe(Uint8Array) // plain, not a Buffer
            expect(Buffer.from(bytes).equals(expected)).toBe(true)
            expect(await path.text(input, 'base64url')).toBe(expected.toString('base64url'))
            expect(await path.text(input, 'base64')).toBe(expected.toString('base64'))
          }
        }
      }
    })
  }
})
