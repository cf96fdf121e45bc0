import { describe, expect, it } from 'vitest'
import { DJANGO_VERSIONS, DjangoHasherUnavailableError, djangoTraits, passwordHashers } from '../src/index.ts'

describe('passwordHashers options (no Django needed)', () => {
  it('uses injected verifiers', async () => {
    const seen: string[] = []
    const custom = passwordHashers({
      iterations: 1000,
      verifiers: {
        argon2: async (password, encoded) => {
          seen.push(encoded)
          return password === 'ok'
        },
      },
    })
    expect((await custom.check('ok', 'argon2$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA')).valid).toBe(true)
    expect(seen).toHaveLength(1)
    const error = new DjangoHasherUnavailableError('argon2')
    expect(error.option).toBe('verifiers.argon2')
    expect(error.message).toContain('from "@sessionbridge/django/argon2" (which needs @node-rs/argon2)')
  })

  it('derives the work factor and the accepted hashers from djangoVersion, and checks its options', () => {
    expect(passwordHashers().iterations).toBe(260_000)
    expect(passwordHashers({ djangoVersion: '4.2' }).iterations).toBe(600_000)
    expect(passwordHashers({ djangoVersion: '5.2' }).iterations).toBe(1_000_000)
    expect(passwordHashers({ djangoVersion: '5.2', iterations: 1_200_000 }).iterations).toBe(1_200_000)
    expect(passwordHashers({ djangoVersion: '3.2' }).identify('scrypt$1$s$1$1$x')).toBeNull()
    expect(passwordHashers({ djangoVersion: '4.0' }).identify('scrypt$1$s$1$1$x')).toBe('scrypt')
    expect(DJANGO_VERSIONS.map((v) => djangoTraits(v).pbkdf2Iterations)).toEqual([
      260_000, 320_000, 390_000, 600_000, 720_000, 870_000, 1_000_000,
    ])
    expect(() => passwordHashers({ djangoVersion: '6.1' as never })).toThrow(
      /\[sessionbridge\/django\] option "djangoVersion" must be one of "3.2", .*"5.2" \(got "6.1"\)/,
    )
    expect(() => passwordHashers({ iterations: 0 })).toThrow(/option "iterations"/)
    expect(() => passwordHashers({ accepted: ['md5' as never] })).toThrow(/unknown hasher "md5"/)
    expect(() => passwordHashers({ verifiers: { scrypt: 'x' as never } })).toThrow(
      /option "verifiers.scrypt"/,
    )
  })
})
