import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  base62Decode,
  base62Encode,
  djangoCodec,
  dumps,
  loads,
  pythonFloatRepr,
  pythonJsonDumps,
  pythonJsonLoads,
  TimestampSigner,
} from '../src/index.ts'
import { type DjangoProcess, startDjango } from './helpers.ts'

const KEY = 'codec-test-secret-key-0123456789abcdef'
const OLD_KEY = 'codec-test-previous-key-9876543210'

function recorder() {
  const messages: string[] = []
  return { messages, logger: { warn: (m: string) => messages.push(m) } }
}

describe('base62 and Python JSON (no Django needed)', () => {
  it('encodes timestamps as Django does', () => {
    expect(base62Encode(1_700_000_000)).toBe('1r31eq')
    expect(base62Decode('1r31eq')).toBe(1_700_000_000)
    expect(base62Decode('1r3!eq')).toBeNull()
  })
  it('reads what Python writes, including NaN/Infinity and big integers', () => {
    expect(pythonJsonLoads('{"a":[NaN,Infinity,-Infinity],"b":9007199254740993}')).toEqual({
      a: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      b: 9007199254740993n,
    })
    expect(pythonJsonDumps({ b: 9007199254740993n, c: Number.NaN })).toBe('{"b":9007199254740993,"c":NaN}')
    const parsed = pythonJsonLoads('{"__proto__":{"x":1}}') as Record<string, unknown>
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(Object.keys(parsed)).toEqual(['__proto__'])
    expect(() => pythonJsonLoads('{"a":1} x')).toThrow(SyntaxError)
  })
  it('writes floats with Python repr rules', () => {
    expect(pythonFloatRepr(1e-7)).toBe('1e-07')
    expect(pythonFloatRepr(1.5e100)).toBe('1.5e+100')
    expect(pythonFloatRepr(0.0001)).toBe('0.0001')
    expect(pythonJsonDumps([1, 1e21, -0, 0.5, 2 ** 53])).toBe('[1,1e+21,0,0.5,9007199254740992.0]')
  })
})

describe.skipIf(!(await serviceAvailable('django')))('codec against Django 3.2', () => {
  let dir: string
  let django: DjangoProcess
  let oldDjango: DjangoProcess
  let legacyDjango: DjangoProcess
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-django-codec-'))
    const db = `sqlite:${join(dir, 'db.sqlite3')}`
    django = startDjango({ db, secretKey: KEY })
    oldDjango = startDjango({ db, secretKey: OLD_KEY })
    legacyDjango = startDjango({ db, secretKey: KEY, hashing: 'sha1' })
  })
  afterAll(async () => {
    await Promise.all([django.close(), oldDjango.close(), legacyDjango.close()])
    rmSync(dir, { recursive: true, force: true })
  })

  const samples: Record<string, Record<string, unknown>> = {
    login: {
      _auth_user_id: '1',
      _auth_user_backend: 'django.contrib.auth.backends.ModelBackend',
      _auth_user_hash: 'ab'.repeat(32),
    },
    unicode: { s: 'héllo wörld ✓ 中文', astral: '😀𝄞', seps: '\u2028\u2029\u007f\u0000\n\t"\\/<' },
    floats: { f: [0.1, 1e-7, 1e100, 123.456, -2.5e-10, 1e22, Math.PI], i: [0, -1, 2 ** 53 - 1] },
    nested: { a: { b: [{ c: null, d: true }, []], e: {} }, empty: '' },
    large: {
      blob: 'lorem ipsum dolor sit amet '.repeat(4000),
      list: Array.from({ length: 500 }, (_, i) => i),
    },
    tiny: { a: 1 },
  }

  for (const [name, data] of Object.entries(samples)) {
    it(`round trips "${name}" both ways`, async () => {
      const codec = djangoCodec({ secretKey: KEY })
      const fromDjango = await django.call<string>('encode', { data })
      expect(await codec.decode(fromDjango)).toEqual(data)
      const fromNode = await codec.encode(data)
      expect(fromNode.startsWith('.')).toBe(fromDjango.startsWith('.'))
      const read = await django.call<{ value: unknown; warnings: string[] }>('decode', {
        session_data: fromNode,
      })
      expect(read).toEqual({ value: data, warnings: [] })
      // Uncompressed payloads are byte-identical up to the timestamp and signature.
      if (!fromNode.startsWith('.')) expect(fromNode.split(':')[0]).toBe(fromDjango.split(':')[0])
    })
  }

  it('writes JSON byte-identical to Python, floats included', async () => {
    const vectors = await django.call<{ json: string; reprs: string[] }>('float_reprs', {
      seed: 7,
      count: 400,
    })
    const values = JSON.parse(vectors.json) as number[]
    expect(values.map(pythonFloatRepr)).toEqual(vectors.reprs)
    // The one deliberate difference: a float with a whole value in the safe integer range (2.0) is
    // written as an int (2), because JS numbers cannot tell them apart.
    const expected = `[${vectors.reprs.map((r, i) => (Number.isSafeInteger(values[i]) ? String(values[i]) : r)).join(',')}]`
    expect(pythonJsonDumps(values)).toBe(expected)
    expect(expected).not.toBe(vectors.json) // the vectors do hold such values
    const nonWhole = values.filter((v) => !Number.isInteger(v))
    expect(pythonJsonDumps(nonWhole)).toBe(await django.call('json_dumps', { value: nonWhole }))
    const data = samples.unicode!
    expect(pythonJsonDumps(data)).toBe(await django.call('json_dumps', { value: data }))
  })

  it('reads data signed under a fallback key and signs with the current one', async () => {
    const data = { rotated: true }
    const signedOld = await oldDjango.call<string>('encode', { data })
    expect(await djangoCodec({ secretKey: KEY }).decode(signedOld)).toBeNull()
    const rotating = djangoCodec({ secretKey: KEY, fallbackKeys: [OLD_KEY] })
    expect(await rotating.decode(signedOld)).toEqual(data)
    const fresh = await rotating.encode(data)
    expect((await django.call<{ value: unknown }>('decode', { session_data: fresh })).value).toEqual(data)
  })

  it('reads the pre-3.1 format and SHA-1 signatures that Django 3.2 still reads', async () => {
    const data = { legacy: 'é', n: 1 }
    const legacy = await legacyDjango.call<string>('encode', { data })
    expect(legacy).not.toContain(':') // base64 of "hexdigest:json"
    expect(await djangoCodec({ secretKey: KEY }).decode(legacy)).toEqual(data)
    const sha1Signed = await dumps(data, {
      key: KEY,
      salt: 'django.contrib.sessions.SessionStore',
      algorithm: 'sha1',
      compress: true,
    })
    expect((await django.call<{ value: unknown }>('decode', { session_data: sha1Signed })).value).toEqual(
      data,
    )
    expect(await djangoCodec({ secretKey: KEY }).decode(sha1Signed)).toEqual(data)
  })

  it('turns tampered, truncated and foreign data into no session plus a warning, as Django does', async () => {
    const { messages, logger } = recorder()
    const codec = djangoCodec({ secretKey: KEY, logger })
    const good = await django.call<string>('encode', { data: samples.login })
    const flipped = good.slice(0, 5) + (good[5] === 'A' ? 'B' : 'A') + good.slice(6)
    const foreign = await oldDjango.call<string>('encode', { data: samples.login })
    for (const bad of [
      flipped,
      good.slice(0, -3),
      good.slice(0, 20),
      foreign,
      '',
      'garbage',
      ':::',
      '.:x:y',
    ]) {
      expect(await codec.decode(bad)).toBeNull()
      const django32 = await django.call<{ value?: unknown; warnings: string[] }>('decode', {
        session_data: bad,
      })
      expect(django32.value ?? {}).toEqual({})
    }
    expect(messages.length).toBeGreaterThanOrEqual(6)
    expect(messages[0]).toMatch(/Session data corrupted/)
  })

  it('answers null for validly signed payloads that are not a JSON object (Django: 500 or a list)', async () => {
    const { messages, logger } = recorder()
    const codec = djangoCodec({ secretKey: KEY, logger })
    const signer = new TimestampSigner({ key: KEY, salt: 'django.contrib.sessions.SessionStore' })
    for (const payload of ['!!notbase64', '.AAAA', 'WzEsMl0', 'bm90IGpzb24']) {
      expect(await codec.decode(await signer.sign(payload))).toBeNull()
    }
    expect(messages).toHaveLength(4)
    expect(messages[0]).toMatch(/signed, but/)
  })

  it('signing.dumps/loads match Django with other salts and max_age', async () => {
    const value = { x: [1, 'ü'] }
    const fromDjango = await django.call<string>('dumps', { value, salt: 'my.salt', compress: true })
    expect(await loads(fromDjango, { key: KEY, salt: 'my.salt' })).toMatchObject({ ok: true, value })
    expect(await loads(fromDjango, { key: KEY, salt: 'other' })).toEqual({
      ok: false,
      reason: 'bad-signature',
    })
    const mine = await dumps(value, { key: KEY, salt: 'my.salt', now: () => Date.now() - 3_600_000 })
    expect(await django.call('loads', { signed: mine, salt: 'my.salt' })).toEqual({ value })
    expect(await django.call('loads', { signed: mine, salt: 'my.salt', max_age: 60 })).toEqual({
      error: 'SignatureExpired',
    })
    expect(await loads(mine, { key: KEY, salt: 'my.salt', maxAge: 60 })).toEqual({
      ok: false,
      reason: 'expired',
    })
  })
})
