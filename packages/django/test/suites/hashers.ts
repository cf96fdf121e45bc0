import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DJANGO_PYTHON } from '@sessionbridge/test-services'
import type { DjangoInstall } from '@sessionbridge/test-services/django-versions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { argon2Verifier } from '../../src/argon2.ts'
import { bcryptSha256Verifier } from '../../src/bcrypt.ts'
import {
  DjangoHasherUnavailableError,
  type DjangoVersion,
  djangoTraits,
  type PasswordHashersOptions,
  passwordHashers,
} from '../../src/index.ts'
import { scryptVerifier } from '../../src/scrypt.ts'
import { type DjangoProcess, startDjango } from '../helpers.ts'

const verifiers = { argon2: argon2Verifier, bcrypt_sha256: bcryptSha256Verifier, scrypt: scryptVerifier }

/** Whether Django's Python imports `module` (python3-argon2 / python3-bcrypt: optional for Django). */
async function pythonHas(module: string): Promise<boolean> {
  try {
    await promisify(execFile)(DJANGO_PYTHON, ['-c', `import ${module}`], { timeout: 20_000 })
    return true
  } catch {
    return false
  }
}
// Django makes argon2 and bcrypt hashes only with these installed. Without them those tests are
// skipped, and reported so: CI installs both, so a skip there fails the run.
const HASHER_MODULES = { argon2: 'argon2', bcrypt_sha256: 'bcrypt' } as const
const hasherHere: Record<string, boolean> = {}
for (const [hasher, module] of Object.entries(HASHER_MODULES)) {
  hasherHere[hasher] = await pythonHas(module)
  if (!hasherHere[hasher])
    console.warn(`\n*** SKIPPING the ${hasher} vectors: Django's Python cannot import ${module} ***\n`)
}
const SALT = 'NaClNaClNaClNaClNaCl22'

/** Django's password hashers against Node's, for one Django of the matrix. */
export function hashersSuite(django: DjangoInstall): void {
  const line = django.line as DjangoVersion
  const traits = djangoTraits(line)
  describe.skipIf(!django.available)(`password hashers against Django ${line}`, () => {
    let dir: string
    let py: DjangoProcess
    let stronger: DjangoProcess
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'sb-django-hashers-'))
      const db = `sqlite:${join(dir, 'db.sqlite3')}`
      const secretKey = 'hashers-secret-key-0123456789'
      py = startDjango({ db, secretKey, django })
      // A project that raised the work factor (explicit iterations, cheap enough for a test).
      stronger = startDjango({ db, secretKey, django, iterations: 3000 })
    })
    afterAll(async () => {
      await Promise.all([py.close(), stronger.close()])
      rmSync(dir, { recursive: true, force: true })
    })
    const make = (args: Record<string, unknown>, on = py) => on.call<string>('make_password', args)
    const djangoCheck = (password: string, encoded: string) =>
      py.call<{ ok?: boolean; error?: string }>('check_encoded', { password, encoded })
    const hashers = (options: PasswordHashersOptions = {}) =>
      passwordHashers({ djangoVersion: line, verifiers, ...options })
    const fast = hashers({ iterations: 1000 })

    it(`writes Django ${line}'s own PBKDF2 work factor (${traits.pbkdf2Iterations}), which Django keeps`, async () => {
      const info = await py.call<{ version: string; iterations: number }>('version')
      expect(info.version).toBe(django.version)
      expect(info.iterations).toBe(traits.pbkdf2Iterations)
      const encoded = await hashers().make('correct horse ✓')
      expect(encoded).toMatch(
        new RegExp(`^pbkdf2_sha256\\$${traits.pbkdf2Iterations}\\$[A-Za-z0-9]{22}\\$[A-Za-z0-9+/]{43}=$`),
      )
      expect(await djangoCheck('correct horse ✓', encoded)).toEqual({ ok: true })
      expect(await py.call('must_update', { encoded })).toBe(false)
      // And Django's own hash at its default is not rewritten by Node either.
      const fromDjango = await make({ password: 'pw', hasher: 'pbkdf2_sha256' })
      expect(await hashers().check('pw', fromDjango)).toEqual({ valid: true, mustUpdate: false })
    })

    it('verifies pbkdf2_sha256 and pbkdf2_sha1 hashes made by Django, iterations read from the hash', async () => {
      for (const hasher of ['pbkdf2_sha256', 'pbkdf2_sha1']) {
        for (const password of ['s3cret', 'pässwörd 😀', '']) {
          const encoded = await make({ password, hasher, salt: SALT, iterations: 1500 })
          expect(await fast.check(password, encoded)).toEqual({
            valid: true,
            mustUpdate: hasher !== 'pbkdf2_sha256',
          })
          expect(await fast.check(`${password}x`, encoded)).toEqual({ valid: false, mustUpdate: false })
        }
      }
      const sha1 = hashers({ algorithm: 'pbkdf2_sha1', iterations: 2000 })
      expect(await djangoCheck('x', await sha1.make('x'))).toEqual({ ok: true })
    })

    it('never rewrites a hash to a lower work factor, in both directions (no ping-pong)', async () => {
      // Same work factor on both sides: neither side asks for a rewrite of the other's hash.
      const node3000 = hashers({ iterations: 3000 })
      const fromDjango = await make({ password: 'pw', hasher: 'pbkdf2_sha256' }, stronger)
      expect(fromDjango).toMatch(/^pbkdf2_sha256\$3000\$/)
      expect(await node3000.check('pw', fromDjango)).toEqual({ valid: true, mustUpdate: false })
      const fromNode = await node3000.make('pw')
      expect(await stronger.call('must_update', { encoded: fromNode })).toBe(false)
      // A stronger hash than Node's setting (made by a newer Django): Node keeps it; Django would not.
      const node1000 = hashers({ iterations: 1000 })
      expect(await node1000.check('pw', fromDjango)).toEqual({ valid: true, mustUpdate: false })
      expect(await py.call('must_update', { encoded: fromDjango })).toBe(true) // Django: `!=`
      // A weaker hash: Node upgrades it to exactly what the Django beside it writes.
      const weak = await make({ password: 'pw', hasher: 'pbkdf2_sha256', salt: SALT, iterations: 1000 })
      expect(await node3000.check('pw', weak)).toEqual({ valid: true, mustUpdate: true })
      expect(await stronger.call('must_update', { encoded: weak })).toBe(true)
    })

    it('asks for an upgrade for a short salt or another hasher, as Django does', async () => {
      const shortSalt = await make({
        password: 'pw',
        hasher: 'pbkdf2_sha256',
        salt: 'short',
        iterations: 1000,
      })
      expect(await py.call('must_update', { encoded: shortSalt })).toBe(true)
      expect(await fast.check('pw', shortSalt)).toEqual({ valid: true, mustUpdate: true })
    })

    for (const hasher of Object.keys(HASHER_MODULES)) {
      it.skipIf(!hasherHere[hasher])(
        `verifies ${hasher} hashes made by Django through the subpath verifier`,
        async () => {
          const encoded = await make({ password: 'üñí 🔑', hasher })
          expect(encoded.startsWith(`${hasher}$`)).toBe(true)
          expect(await fast.check('üñí 🔑', encoded)).toEqual({ valid: true, mustUpdate: true })
          expect(await fast.check('üñí', encoded)).toEqual({ valid: false, mustUpdate: false })
        },
      )
    }

    if (traits.scrypt) {
      it(`verifies scrypt hashes made by Django ${line}'s own ScryptPasswordHasher`, async () => {
        const info = await py.call<{ algorithms: string[] }>('version')
        expect(info.algorithms).toContain('scrypt')
        const encoded = await make({ password: 'üñí 🔑', hasher: 'scrypt' })
        // The parallelism differs (4.2: 1, 5.2: 5): the verifier reads it from the hash.
        const p = line === '4.2' ? 1 : 5
        expect(encoded).toMatch(
          new RegExp(`^scrypt\\$16384\\$[A-Za-z0-9]{22}\\$8\\$${p}\\$[A-Za-z0-9+/]{86}==$`),
        )
        expect(await fast.check('üñí 🔑', encoded)).toEqual({ valid: true, mustUpdate: true })
        expect(await fast.check('üñí', encoded)).toEqual({ valid: false, mustUpdate: false })
      })
    } else {
      it(`refuses scrypt hashes like Django ${line}, which has no scrypt hasher`, async () => {
        const info = await py.call<{ algorithms: string[] }>('version')
        expect(info.algorithms).not.toContain('scrypt')
        const encoded = await make({ password: 'pw', hasher: 'scrypt' }) // the 4.0+ format, by hashlib
        expect(await djangoCheck('pw', encoded)).toEqual({ ok: false })
        expect(await fast.check('pw', encoded)).toMatchObject({ valid: false, problem: 'unknown-algorithm' })
        // Accepted when the app lists it explicitly (a PASSWORD_HASHERS with a backported hasher).
        const explicit = hashers({ iterations: 1000, accepted: ['pbkdf2_sha256', 'scrypt'] })
        expect(await explicit.check('pw', encoded)).toEqual({ valid: true, mustUpdate: true })
      })
    }

    it('never verifies unusable passwords, and refuses unknown or malformed hashes like Django', async () => {
      const unusable = await fast.make(null)
      expect(unusable).toMatch(/^![A-Za-z0-9]{40}$/)
      expect(await fast.check('', unusable)).toMatchObject({ valid: false, problem: 'unusable' })
      expect(await djangoCheck('', unusable)).toEqual({ ok: false })
      for (const encoded of ['md5$$0cc175b9c0f1b6a831c399e269772661', 'plain', 'bcrypt$$2b$12$abc', '']) {
        expect(await fast.check('a', encoded)).toMatchObject({ valid: false, problem: 'unknown-algorithm' })
        expect(await djangoCheck('a', encoded)).toEqual({ ok: false })
      }
      // Django raises on most of these (a 500 in a login view); here they are simply not a match.
      const malformed: Record<string, boolean> = {
        pbkdf2_sha256$: true,
        pbkdf2_sha256$abc$salt$hash: true,
        pbkdf2_sha256$1000$$hash: true, // 3.2: AssertionError, 4.0+: ValueError
        bcrypt_sha256$$2b$12$tooshort: true,
        // argon2-cffi answers "no match"; without it Django cannot load the hasher (ValueError).
        argon2$argon2id$nonsense: !hasherHere.argon2,
      }
      for (const [encoded, raises] of Object.entries(malformed)) {
        expect(await fast.check('a', encoded)).toMatchObject({ valid: false, problem: 'malformed' })
        expect(await djangoCheck('a', encoded)).toEqual(
          raises ? { error: expect.stringMatching(/Error$/) } : { ok: false },
        )
      }
      // Not malformed to Django either: the re-encoded string simply differs.
      expect(await fast.check('a', 'pbkdf2_sha256$01000$salt$hash')).toEqual({
        valid: false,
        mustUpdate: false,
      })
      expect(await djangoCheck('a', 'pbkdf2_sha256$01000$salt$hash')).toEqual({ ok: false })
    })

    it('restricts accepted hashers like PASSWORD_HASHERS', async () => {
      const onlySha256 = hashers({ iterations: 1000, accepted: ['pbkdf2_sha256'] })
      const sha1 = await make({ password: 'pw', hasher: 'pbkdf2_sha1', salt: SALT, iterations: 1000 })
      expect(await onlySha256.check('pw', sha1)).toMatchObject({ valid: false, problem: 'unknown-algorithm' })
    })

    it('names the subpath to import when a stored hash needs a verifier that was not configured', async () => {
      const bare = passwordHashers({ djangoVersion: line, iterations: 1000 })
      const encoded = await make({ password: 'pw', hasher: 'bcrypt_sha256' })
      await expect(bare.check('pw', encoded)).rejects.toThrow(DjangoHasherUnavailableError)
      await expect(bare.check('pw', encoded)).rejects.toThrow(
        '[sessionbridge/django] the "bcrypt_sha256" password hasher needs option "verifiers.bcrypt_sha256": pass { bcrypt_sha256: bcryptSha256Verifier } from "@sessionbridge/django/bcrypt" (which needs @node-rs/bcrypt), or your own verifier',
      )
    })
  })
}
