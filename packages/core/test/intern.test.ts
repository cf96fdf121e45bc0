import { describe, expect, it } from 'vitest'
import { createSigner } from '../src/adapter.ts'
import { createSessionManager, memoryBackend } from '../src/index.ts'
import { internString } from '../src/intern.ts'

describe('internString', () => {
  it('answers the same characters for any string, property-like or not', () => {
    const made = (text: string) => [...text].join('') // a string built apart from the literal
    for (const text of [
      '',
      'a',
      '__proto__',
      'constructor',
      '0',
      '4294967295',
      '-1',
      'é☃𝄞',
      'x'.repeat(300),
    ]) {
      expect(internString(made(text))).toBe(text)
    }
  })

  it('keeps a session found by a signed cookie whose id was made apart from the stored one', async () => {
    const storage = new Map()
    const manager = createSessionManager({ backend: memoryBackend({ storage }), secrets: ['s'.repeat(32)] })
    const first = await manager.open({ cookie: undefined })
    first.set('n', 1)
    const { setCookie } = await first.commit()
    const cookie = setCookie!.split(';')[0]!
    // Each request's cookie text is a new string; the signer remembers the id it verified.
    for (let n = 2; n <= 4; n++) {
      const session = await manager.open({ cookie: [...cookie].join('') })
      expect(await session.get('n')).toBe(n - 1)
      session.set('n', n)
      await session.commit()
    }
    expect(storage.size).toBe(1)
    expect(createSigner(['s'.repeat(32)]).verified?.('forged.value')).toEqual({ value: null, renew: false })
  })
})
