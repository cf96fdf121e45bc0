import { execFile } from 'node:child_process'
import { validateHeaderValue } from 'node:http'
import { promisify } from 'node:util'
import { serviceAvailable } from '@sessionbridge/test-services'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PYTHON } from '../src/django.ts'
import { iriToUri, MAX_NEXT_LENGTH, safeNext, withQueryFlag } from '../src/next.ts'

const run = promisify(execFile)
const djangoHere = await serviceAvailable('django')

/** A value Node's HTTP server accepts in a header (what crashed Fastify in issue 14.1). */
const headerSafe = (value: string) => {
  try {
    validateHeaderValue('location', value)
    return true
  } catch {
    return false
  }
}

describe('safeNext', () => {
  it('follows local paths and percent-encodes what a header cannot carry (issue 14.1)', () => {
    expect(safeNext('/')).toBe('/')
    expect(safeNext('/a/b?c=d&e=f#g')).toBe('/a/b?c=d&e=f#g')
    expect(safeNext('/€')).toBe('/%E2%82%AC') // the request that took the Node process down
    expect(safeNext('/ÿ')).toBe('/%C3%BF')
    expect(safeNext('/a b')).toBe('/a%20b')
    expect(safeNext('/%41')).toBe('/%41') // already encoded: left alone, as iri_to_uri does
    expect(safeNext('/\ud800')).toBe('/%EF%BF%BD') // a lone surrogate: U+FFFD, no URIError
    expect(safeNext('/"<x>')).toBe('/%22%3Cx%3E')
  })

  it('refuses anything that is not a same-site relative path', () => {
    for (const bad of [
      '',
      'a',
      'http://evil.example/',
      '//evil.example',
      '/\\evil.example',
      '/a\\b',
      '/\t/evil.example',
      '/\n',
      '/\r\nSet-Cookie: x=y',
      '/\u0000',
      '/\u007f',
      '/\u0085',
      ' /',
      `/${'a'.repeat(MAX_NEXT_LENGTH)}`,
      42,
      null,
      ['/'],
    ]) {
      expect(safeNext(bad), JSON.stringify(bad)).toBeNull()
    }
  })

  it('answers null or a header-safe local path for any input (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'binary' }).map((s) => `/${s}`),
        ),
        (input) => {
          const next = safeNext(input)
          if (next === null) return
          expect(next).toMatch(/^\/(?![/\\])[\x21-\x7e]*$/)
          expect(headerSafe(next)).toBe(true)
          expect(headerSafe(withQueryFlag(next, 'error'))).toBe(true)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('adds the error flag to the query, before any fragment', () => {
    expect(withQueryFlag('/', 'error')).toBe('/?error=1')
    expect(withQueryFlag('/p?x=1', 'error')).toBe('/p?x=1&error=1')
    expect(withQueryFlag('/p#top', 'error')).toBe('/p?error=1#top')
  })

  it.skipIf(!djangoHere)('encodes exactly as Django’s iri_to_uri', async () => {
    const samples = ['/€', '/a b', '/ÿ?q=ü&r=1#frag', '/%41%zz', "/()*!'@:;=+$,[]~", '/日本/😀', '/"<>{}|^`']
    const script =
      'import json,sys\nfrom django.utils.encoding import iri_to_uri\nprint(json.dumps([iri_to_uri(s) for s in json.load(sys.stdin)]))'
    const child = run(PYTHON, ['-c', script], { timeout: 20_000 })
    child.child.stdin!.end(JSON.stringify(samples))
    const expected = JSON.parse((await child).stdout) as string[]
    expect(samples.map(iriToUri)).toEqual(expected)
  })
})
