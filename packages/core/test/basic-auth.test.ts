import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseBasicAuth, resolveBasicGuard } from '../src/adapter.ts'
import { SessionConfigError } from '../src/index.ts'
import { basicHeader } from '../src/testing/http.ts'

describe('parseBasicAuth', () => {
  it('reads username and password, the password keeping its colons', () => {
    expect(parseBasicAuth(basicHeader('alice', 'a:b:c'))).toEqual({ username: 'alice', password: 'a:b:c' })
    expect(parseBasicAuth(`basic   ${btoa('bob:')}`)).toEqual({ username: 'bob', password: '' })
    expect(parseBasicAuth(basicHeader('jörg', 'pässwörd ✓'))).toEqual({
      username: 'jörg',
      password: 'pässwörd ✓',
    })
    expect(parseBasicAuth(`Basic ${btoa('ab:c').replace(/=+$/, '')}`)).toEqual({
      username: 'ab',
      password: 'c',
    })
  })

  it('answers null to everything else', () => {
    for (const header of [
      undefined,
      null,
      '',
      'Basic',
      'Basic ',
      'Basic !!!',
      'Basic a',
      `Basic ${btoa('nocolon')}`,
      `Basic ${btoa(':nouser')}`,
      `Basic ${btoa('\xff\xfe:\xc3\x28')}`,
      `Bearer ${btoa('a:b')}`,
      `Basic ${btoa('a:b')} extra`,
      `Basic ${'QUFB'.repeat(2048)}`,
    ]) {
      expect(parseBasicAuth(header), String(header).slice(0, 30)).toBeNull()
    }
  })

  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (tail) => {
        parseBasicAuth(`Basic ${tail}`)
        parseBasicAuth(tail)
      }),
    )
  })
})

describe('resolveBasicGuard', () => {
  it('quotes the realm and escapes quotes and backslashes', () => {
    expect(resolveBasicGuard(null, { realm: 'a "b" \\ c' }).challenge).toBe(
      'Basic realm="a \\"b\\" \\\\ c", charset="UTF-8"',
    )
    expect(resolveBasicGuard(null).challenge).toBe('Basic realm="Restricted", charset="UTF-8"')
  })

  it('refuses realms that would break the header, and empty permissions, at startup', () => {
    expect(() => resolveBasicGuard(null, { realm: 'a\r\nSet-Cookie: x=1' }, 'koa')).toThrow(
      SessionConfigError,
    )
    expect(() => resolveBasicGuard(null, { realm: 'café' }, 'koa')).toThrow(
      /\[sessionbridge\/koa\] option "realm"/,
    )
    expect(() => resolveBasicGuard('', {}, 'hono')).toThrow(/option "permission"/)
  })
})
