import { serialize } from 'cookie'
import { describe, expect, it } from 'vitest'
import {
  isSecureRequest,
  MAX_COOKIE_VALUE_LENGTH,
  readCookie,
  resolveCookieOptions,
  writeCookie,
} from '../src/adapter.ts'
import { createSessionManager, memoryBackend, type SessionBackend } from '../src/index.ts'

function spyBackend() {
  const seen: string[] = []
  const inner = memoryBackend()
  const backend: SessionBackend = {
    ...inner,
    load: (id) => {
      seen.push(id)
      return inner.load(id)
    },
  }
  return { backend, seen }
}

describe('hostile cookies never reach the backend', () => {
  const valid = 'a'.repeat(32)
  const cases: Record<string, string> = {
    'wrong alphabet': `sessionid=${'A'.repeat(32)}`,
    truncated: `sessionid=${valid.slice(0, 31)}`,
    'too long': `sessionid=${valid}x`,
    '10 kB value': `sessionid=${'a'.repeat(10_000)}`,
    '20 kB header': `x=${'y'.repeat(20_000)}; sessionid=${valid}`,
    'protocol injection': 'sessionid=abc%0D%0Aflush_all',
    'bad percent encoding': 'sessionid=%E0%A4%A',
    'sql injection': "sessionid=' OR 1=1 --",
    'only the name': 'sessionid',
    empty: 'sessionid=',
    unicode: 'sessionid=ааааааааааааааааааааааааааааааа',
  }
  for (const [name, header] of Object.entries(cases)) {
    it(name, async () => {
      const { backend, seen } = spyBackend()
      const manager = createSessionManager({ backend })
      const session = await manager.open({ cookie: header })
      expect(session.id).toBeNull()
      expect(await session.get('x')).toBeUndefined()
      expect((await session.commit()).setCookie).toBeNull()
      expect(seen).toEqual([])
    })
  }

  it('forged signatures are "no session" when signing is on', async () => {
    const { backend, seen } = spyBackend()
    const manager = createSessionManager({ backend, secrets: ['a-secret-of-sufficient-length'] })
    for (const header of [
      `sessionid=${valid}`,
      `sessionid=${valid}.${'A'.repeat(43)}`,
      `sessionid=${valid}.`,
    ]) {
      const session = await manager.open({ cookie: header })
      expect(await session.get('x')).toBeUndefined()
    }
    expect(seen).toEqual([])
  })

  it('a well-formed id is looked up exactly once per request', async () => {
    const { backend, seen } = spyBackend()
    const session = await createSessionManager({ backend }).open({ cookie: `other=1; sessionid=${valid}` })
    await session.get('x')
    await session.get('y')
    await session.commit()
    expect(seen).toEqual([valid])
  })
})

describe('cookie flags', () => {
  const firstWrite = async (options: Parameters<typeof createSessionManager>[0], transport = {}) => {
    const session = await createSessionManager(options).open({ cookie: null, ...transport })
    session.set('a', 1)
    return (await session.commit()).setCookie!
  }

  it('is HttpOnly, SameSite=Lax, Path=/ and not Secure over plain HTTP by default', async () => {
    const cookie = await firstWrite({ backend: memoryBackend() }, { protocol: 'http' })
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Lax')
    expect(cookie).toContain('Path=/')
    expect(cookie).not.toContain('Secure')
  })

  it('is Secure over HTTPS, and behind a proxy only when trusted', async () => {
    expect(await firstWrite({ backend: memoryBackend() }, { protocol: 'https' })).toContain('Secure')
    const proxied = { protocol: 'http', forwardedProto: 'https' }
    expect(await firstWrite({ backend: memoryBackend() }, proxied)).not.toContain('Secure')
    expect(await firstWrite({ backend: memoryBackend(), trustProxy: true }, proxied)).toContain('Secure')
  })

  it('browser-session cookies carry no Max-Age', async () => {
    const cookie = await firstWrite({ backend: memoryBackend(), cookie: { persistent: false } })
    expect(cookie).not.toContain('Max-Age')
    expect(cookie).not.toContain('Expires')
  })

  it('a per-session max age of 0 makes a browser-session cookie, as in Django', async () => {
    const session = await createSessionManager({ backend: memoryBackend() }).open({})
    session.set('a', 1)
    session.setMaxAge(0)
    expect((await session.commit()).setCookie).not.toContain('Max-Age')
  })

  it('isSecureRequest reads only the first forwarded hop', () => {
    expect(isSecureRequest({ protocol: 'https:' }, false)).toBe(true)
    expect(isSecureRequest({ forwardedProto: 'https, http' }, true)).toBe(true)
    expect(isSecureRequest({ forwardedProto: 'http, https' }, true)).toBe(false)
    expect(isSecureRequest({ forwardedProto: 'https' }, false)).toBe(false)
  })
})

describe('writeCookie', () => {
  // The parts are worked out once per options object; the text must stay what `cookie` writes.
  it('writes exactly what the cookie package serializes, for every option combination', () => {
    const now = Date.UTC(2026, 11, 2, 16, 0, 0, 500)
    for (const persistent of [true, false])
      for (const secureOption of [true, false, 'auto'] as const)
        for (const sameSite of ['lax', 'strict', 'none'] as const)
          for (const [httpOnly, partitioned, domain, path] of [
            [true, false, undefined, '/'],
            [false, true, 'example.com', '/app'],
          ] as const) {
            const options = resolveCookieOptions({
              name: 'sid',
              persistent,
              secure: secureOption,
              sameSite,
              httpOnly,
              partitioned,
              domain,
              path,
            })
            for (const secure of [true, false])
              for (const maxAge of [null, 0, 1, 1_209_600]) {
                const value = maxAge === 0 ? '' : 'abc.DEF_-9'
                const expected = serialize('sid', value, {
                  path,
                  domain,
                  httpOnly,
                  sameSite,
                  secure: secureOption === 'auto' ? secure : secureOption,
                  partitioned: partitioned || undefined,
                  ...(maxAge === 0 || (persistent && maxAge !== null)
                    ? { maxAge: maxAge ?? 0, expires: new Date(now + (maxAge ?? 0) * 1000) }
                    : {}),
                })
                // twice: the second call takes the remembered Expires
                expect(writeCookie(options, 'abc.DEF_-9', maxAge, secure, now)).toBe(expected)
                expect(writeCookie(options, 'abc.DEF_-9', maxAge, secure, now + 400)).toBe(expected)
              }
          }
  })

  it('moves Expires with the clock and refuses a bad name, path or max age', () => {
    const options = resolveCookieOptions({ name: 'sid' })
    expect(writeCookie(options, 'v', 10, false, 0)).toContain('Expires=Thu, 01 Jan 1970 00:00:10 GMT')
    expect(writeCookie(options, 'v', 10, false, 1000)).toContain('Expires=Thu, 01 Jan 1970 00:00:11 GMT')
    expect(() => writeCookie(options, 'v', 1.5, false, 0)).toThrow(TypeError)
    expect(() => writeCookie(resolveCookieOptions({ name: 'a b' }), 'v', 10, false, 0)).toThrow(TypeError)
    expect(() => writeCookie(resolveCookieOptions({ path: '/;x' }), 'v', 10, false, 0)).toThrow(TypeError)
  })

  it("refuses a name, domain or path exactly where the cookie package's serialize does, with its message", () => {
    const names = ['sid', 'a b', 'a;b', 'a=b', 'ä', '', 'x\u007f', '__Host-s', 'a,b']
    const domains = [
      undefined,
      '',
      'example.com',
      '.example.com',
      'a b',
      'ex_ample.com',
      'a;b',
      '-a.com',
      'a.b-',
    ]
    const paths = ['/', '', '/a b', '/;x', '/\u00e4', '/a?b=c']
    for (const name of names)
      for (const domain of domains)
        for (const path of paths) {
          let expected: string | null = null
          try {
            serialize(name, '', { path, domain })
          } catch (error) {
            expected = (error as Error).message
          }
          let actual: string | null = null
          try {
            writeCookie(resolveCookieOptions({ name, domain, path }), 'v', 10, false, 0)
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError)
            actual = (error as Error).message
          }
          expect(actual, JSON.stringify({ name, domain, path })).toBe(expected)
        }
  })

  it('percent-encodes a value as the cookie package does when it holds more than id characters', () => {
    const options = resolveCookieOptions({ name: 'sid', persistent: false })
    for (const value of ['a b', 'a;b', 'ä', 'a=b', "a'b(c)*!", 'a%2Fb', 'plain.Safe_-~9'])
      expect(writeCookie(options, value, null, false, 0)).toBe(
        serialize('sid', value, { path: '/', httpOnly: true, sameSite: 'lax' }),
      )
  })
})

describe('readCookie', () => {
  /** Django's rule written plainly: split at `;`, then at the first `=`, trim, the last one wins. */
  function reference(header: string, name: string): string | null {
    let value: string | null = null
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      if (eq !== -1 && part.slice(0, eq).trim() === name) value = part.slice(eq + 1).trim()
    }
    if (value !== null && value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.includes('\\') ? null : value.slice(1, -1)
    return value === null || value.length === 0 || value.length > MAX_COOKIE_VALUE_LENGTH ? null : value
  }

  it("reads what Django's rule reads, for generated headers with spaces, quotes and odd parts", () => {
    const pieces = [
      'sessionid',
      'sessionid2',
      'xsessionid',
      '=',
      ';',
      ' ',
      '\t',
      '\u00a0',
      '\u3000',
      '"',
      '\\',
      'a=b',
      'id',
    ]
    const values = ['a1b2', 'x'.repeat(300), '', '"q"', '"', 'v=w', ' sp ace ']
    let seed = 7
    const pick = <T>(list: readonly T[]) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return list[seed % list.length]!
    }
    for (let i = 0; i < 3000; i++) {
      let header = ''
      const parts = 1 + (i % 5)
      for (let p = 0; p < parts; p++) header += pick(pieces) + pick(pieces) + pick(values) + pick(pieces)
      // A name holding `=` or `;` is no part's name.
      for (const name of ['sessionid', 'id', 'a=b', 'a;b'])
        expect(readCookie(header, name), JSON.stringify({ header, name })).toBe(reference(header, name))
    }
    for (const header of [
      'sessionid=abc',
      ' sessionid = abc ; other=1',
      'sessionid=A; sessionid=B',
      'sessionid=A; sessionid=B; c=1',
      'a=1; sessionid=A; b=2; sessionid=; c=3',
      'sessionid=A; sessionid=',
      'sessionid="abc"',
      'sessionid="a\\bc"',
      '\u00a0sessionid\u00a0=\u3000abc\u3000',
      'a=1;sessionid=abc;b=2',
    ])
      expect(readCookie(header, 'sessionid'), header).toBe(reference(header, 'sessionid'))
    // No cookie is named '': a part with nothing before its `=` is not read as one.
    expect(readCookie('=abc; a=1', '')).toBeNull()
  })
})
