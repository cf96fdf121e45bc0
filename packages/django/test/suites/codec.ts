import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DjangoInstall } from '@sessionbridge/test-services/django-versions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DjangoVersion,
  djangoCodec,
  dumps,
  loads,
  pythonFloatRepr,
  pythonJsonDumps,
  TimestampSigner,
} from '../../src/index.ts'
import { type DjangoProcess, startDjango } from '../helpers.ts'

const KEY = 'codec-test-secret-key-0123456789abcdef'
const OLD_KEY = 'codec-test-previous-key-9876543210'

function recorder() {
  const messages: string[] = []
  return { messages, logger: { warn: (m: string) => messages.push(m) } }
}

/** Django's `session_data` and `signing` both ways, for one Django of the matrix. */
export function codecSuite(install: DjangoInstall): void {
  describe.skipIf(!install.available)(`codec against Django ${install.line}`, () => {
    const djangoVersion = install.line as DjangoVersion
    let dir: string
    let django: DjangoProcess
    let oldDjango: DjangoProcess
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'sb-django-codec-'))
      const db = `sqlite:${join(dir, 'db.sqlite3')}`
      django = startDjango({ db, secretKey: KEY, django: install })
      oldDjango = startDjango({ db, secretKey: OLD_KEY, django: install })
    })
    afterAll(async () => {
      await Promise.all([django.close(), oldDjango.close()])
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
        const codec = djangoCodec({ secretKey: KEY, djangoVersion })
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

    it('turns tampered, truncated and foreign data into no session plus a warning, as Django does', async () => {
      const { messages, logger } = recorder()
      const codec = djangoCodec({ secretKey: KEY, djangoVersion, logger })
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
        const fromDjango = await django.call<{ value?: unknown; warnings: string[] }>('decode', {
          session_data: bad,
        })
        expect(fromDjango.value ?? {}).toEqual({})
      }
      expect(messages.length).toBeGreaterThanOrEqual(6)
      expect(messages[0]).toMatch(/Session data corrupted/)
    })

    it('answers null for validly signed payloads that are not a JSON object (Django: 500 or a list)', async () => {
      const { messages, logger } = recorder()
      const codec = djangoCodec({ secretKey: KEY, djangoVersion, logger })
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
}
