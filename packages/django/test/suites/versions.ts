import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessionManager, getUser, type SessionManager } from '@sessionbridge/core'
import { sqlBackend, sqliteClient } from '@sessionbridge/sql'
import { type DjangoInstall, djangoVersion } from '@sessionbridge/test-services/django-versions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DjangoSqlClient,
  type DjangoVersion,
  djangoCodec,
  djangoExpiry,
  djangoTraits,
  djangoUsers,
  dumps,
  loads,
} from '../../src/index.ts'
import { Database, type DjangoProcess, startDjango } from '../helpers.ts'

const KEY = 'versions-current-secret-key-0123456789'
const OLD_KEY = 'versions-rotated-out-secret-key-987654'
const quiet = { warn: () => {} }
// A cheap work factor on both sides: these tests are about sessions, not hashing cost.
const ITERATIONS = 2000
const cookie = (key: string) => ({ cookie: `sessionid=${key}` })
const keyOf = (setCookie: string | null) => /sessionid=([a-z0-9]{32})/.exec(setCookie ?? '')?.[1] ?? null
const maxAgeOf = (setCookie: string | null) => Number(/Max-Age=(\d+)/i.exec(setCookie ?? '')?.[1])

interface Login {
  key: string
  data: Record<string, string>
}
interface Seen {
  user: { username: string } | null
  key: string | null
  old_exists: boolean
  data: Record<string, unknown> | null
}

/**
 * What differs between Django versions, each checked against the real one: `_session_expiry`
 * datetimes, `SECRET_KEY_FALLBACKS` with re-issue, and the SHA-1 forms that 4.0 dropped.
 */
export function versionsSuite(install: DjangoInstall): void {
  const version = install.line as DjangoVersion
  const traits = djangoTraits(version)
  describe.skipIf(!install.available)(`what differs in Django ${install.line}`, () => {
    let dir: string
    let db: Database.Database
    let client: DjangoSqlClient
    let django: DjangoProcess
    const started: DjangoProcess[] = []
    const start = (options: Omit<Parameters<typeof startDjango>[0], 'db'>) => {
      const process = startDjango({
        db: `sqlite:${join(dir, 'db.sqlite3')}`,
        django: install,
        iterations: ITERATIONS,
        ...options,
      })
      started.push(process)
      return process
    }
    const managerFor = (options: { fallbackKeys?: string[]; version?: DjangoVersion } = {}): SessionManager =>
      createSessionManager({
        backend: sqlBackend({
          client,
          layout: 'django',
          codec: djangoCodec({
            secretKey: KEY,
            djangoVersion: options.version ?? version,
            logger: quiet,
            ...options,
          }),
        }),
        touchInterval: false,
      })

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sb-django-versions-'))
      django = start({ secretKey: KEY })
      await django.call('migrate')
      db = new Database(join(dir, 'db.sqlite3'))
      db.pragma('busy_timeout = 5000')
      client = sqliteClient(db) as DjangoSqlClient
      await django.call('create_user', { username: 'alice', password: 'alice-pw' })
    }, 60_000)
    afterAll(async () => {
      await Promise.all(started.map((p) => p.close()))
      db?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    if (traits.isoExpiry) {
      it('keeps an absolute expiry set by Django (an ISO datetime in _session_expiry) through a Node write', async () => {
        const at = Math.floor(Date.now() / 1000) + 3600
        const made = await django.call<{
          key: string
          data: Record<string, unknown>
          row: { expire_date: string }
        }>('set_expiry', { at, data: { cart: [1] } })
        expect(made.data._session_expiry).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/)
        const session = await managerFor().open(cookie(made.key))
        expect(await session.get('cart')).toEqual([1])
        session.set('cart', [1, 2])
        session.touch()
        const { setCookie } = await session.commit()
        // Before: the next write moved the expiry to now + 14 days.
        expect(Math.abs(maxAgeOf(setCookie) - 3600)).toBeLessThanOrEqual(60)
        const read = await django.call<{ data: Record<string, unknown>; row: { expire_date: string } }>(
          'read_session',
          { key: made.key },
        )
        expect(read.data).toEqual({ _session_expiry: made.data._session_expiry, cart: [1, 2] })
        expect(Date.parse(read.row.expire_date)).toBe(at * 1000)
        const expiry = await django.call<{ age: number; date: string }>('expiry', { key: made.key })
        expect(Date.parse(expiry.date)).toBe(at * 1000)
      })

      it('writes an absolute expiry as Django does, which Django reads back', async () => {
        const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 7200_000)
        const session = await managerFor().open({})
        session.set('_session_expiry', djangoExpiry(at))
        session.set('x', 1)
        const { setCookie } = await session.commit()
        const key = keyOf(setCookie)!
        expect(Math.abs(maxAgeOf(setCookie) - 7200)).toBeLessThanOrEqual(60)
        const expiry = await django.call<{ age: number; date: string }>('expiry', { key })
        expect(Date.parse(expiry.date)).toBe(at.getTime())
        expect(Math.abs(expiry.age - 7200)).toBeLessThanOrEqual(60)
      })
    } else {
      it('cannot store an absolute expiry (Django raises), so Node writes the seconds left, which Django reads', async () => {
        const at = Math.floor(Date.now() / 1000) + 3600
        expect(await django.call('set_expiry', { at })).toEqual({
          error: 'TypeError: Object of type datetime is not JSON serializable',
        })
        const session = await managerFor().open({})
        session.set('_session_expiry', djangoExpiry(new Date(at * 1000)))
        session.set('x', 1)
        const key = keyOf((await session.commit()).setCookie)!
        const read = await django.call<{ data: Record<string, unknown> }>('read_session', { key })
        expect(read.data._session_expiry).toEqual(expect.any(Number))
        expect(Math.abs((read.data._session_expiry as number) - 3600)).toBeLessThanOrEqual(60)
        const expiry = await django.call<{ age: number; error?: string }>('expiry', { key })
        expect(Math.abs(expiry.age - 3600)).toBeLessThanOrEqual(60)
        // What the gate prevents: the ISO form, as a 4.1+ codec writes it, breaks this Django.
        const iso = await managerFor({ version: '4.2' }).open({})
        iso.set('_session_expiry', djangoExpiry(new Date(at * 1000)))
        iso.set('x', 1)
        const isoKey = keyOf((await iso.commit()).setCookie)!
        expect(await django.call('expiry', { key: isoKey })).toEqual({ exists: true, error: 'TypeError' })
      })
    }

    if (traits.fallbackKeys) {
      it('verifies signed data and _auth_user_hash under SECRET_KEY_FALLBACKS, re-issuing the login as Django does', async () => {
        const old = start({ secretKey: OLD_KEY })
        const rotated = start({ secretKey: KEY, fallbackKeys: [OLD_KEY] })
        // Django: a session from before the rotation is re-issued under a new key with a new hash.
        const before = await old.call<Login>('login', { username: 'alice', password: 'alice-pw' })
        const seen = await rotated.call<Seen>('request', { key: before.key })
        expect(seen.user?.username).toBe('alice')
        expect(seen.key).not.toBe(before.key)
        expect(seen.old_exists).toBe(false)
        expect(seen.data?._auth_user_hash).not.toBe(before.data._auth_user_hash)
        // Node does the same with another session from before the rotation.
        const users = djangoUsers({
          client,
          secretKey: KEY,
          fallbackKeys: [OLD_KEY],
          djangoVersion: version,
          iterations: ITERATIONS,
        })
        const manager = managerFor({ fallbackKeys: [OLD_KEY] })
        const mine = await old.call<Login>('login', { username: 'alice', password: 'alice-pw' })
        const session = await manager.open(cookie(mine.key))
        expect((await getUser(session, users))?.username).toBe('alice')
        const newKey = keyOf((await session.commit()).setCookie)!
        expect(newKey).not.toBe(mine.key)
        expect(await django.call('read_session', { key: mine.key })).toMatchObject({ exists: false })
        // The re-issued session holds Django's own current hash: a Django without fallbacks accepts it.
        const after = await django.call<Seen>('request', { key: newKey })
        expect(after.user?.username).toBe('alice')
        expect(after.key).toBe(newKey)
        expect(
          (await django.call<{ data: Record<string, unknown> }>('read_session', { key: newKey })).data
            ._auth_user_hash,
        ).toBe(seen.data?._auth_user_hash)
        // Signed data (signing.dumps) under the old key verifies through the fallback only.
        const signed = await old.call<string>('dumps', { value: { a: 1 }, salt: 'my.salt' })
        expect(await loads(signed, { key: KEY, salt: 'my.salt' })).toMatchObject({ ok: false })
        expect(await loads(signed, { key: KEY, fallbackKeys: [OLD_KEY], salt: 'my.salt' })).toMatchObject({
          ok: true,
          value: { a: 1 },
        })
        const mineSigned = await dumps({ b: 2 }, { key: KEY, fallbackKeys: [OLD_KEY], salt: 'my.salt' })
        expect(await django.call('loads', { signed: mineSigned, salt: 'my.salt' })).toEqual({
          value: { b: 2 },
        })
      })
    } else {
      it('has no SECRET_KEY_FALLBACKS: Django logs out sessions of an older key, and Node refuses the option', async () => {
        const old = start({ secretKey: OLD_KEY })
        const rotated = start({ secretKey: KEY, fallbackKeys: [OLD_KEY] })
        const before = await old.call<Login>('login', { username: 'alice', password: 'alice-pw' })
        expect(await rotated.call<Seen>('request', { key: before.key })).toMatchObject({ user: null })
        expect(() =>
          djangoUsers({
            client,
            secretKey: KEY,
            fallbackKeys: [OLD_KEY],
            djangoVersion: version,
            iterations: ITERATIONS,
          }),
        ).toThrow(/option "fallbackKeys" needs Django 4\.1\+/)
        expect(() =>
          djangoCodec({ secretKey: KEY, fallbackKeys: [OLD_KEY], djangoVersion: version }),
        ).toThrow(/option "fallbackKeys" needs Django 4\.1\+/)
      })
    }

    it(`${traits.sha1Forms ? 'reads' : 'refuses'} the SHA-1 forms (SHA-1 signatures, pre-3.1 session data, SHA-1 _auth_user_hash) as Django ${install.line} does`, async () => {
      // The SHA-1 forms come from Django 3.2 with DEFAULT_HASHING_ALGORITHM = 'sha1' on the same database.
      const legacy = startDjango({
        db: `sqlite:${join(dir, 'db.sqlite3')}`,
        secretKey: KEY,
        hashing: 'sha1',
        iterations: ITERATIONS,
        django: await djangoVersion('3.2'),
      })
      started.push(legacy)
      const codec = djangoCodec({ secretKey: KEY, djangoVersion: version, logger: quiet })
      const data = { legacy: 'é', n: 1 }
      const preFormat = await legacy.call<string>('encode', { data })
      expect(preFormat).not.toContain(':') // base64 of "hexdigest:json"
      const sha1Signed = await dumps(data, {
        key: KEY,
        salt: 'django.contrib.sessions.SessionStore',
        algorithm: 'sha1',
        compress: true,
      })
      for (const stored of [preFormat, sha1Signed]) {
        const read = await django.call<{ value?: unknown }>('decode', { session_data: stored })
        expect(read.value).toEqual(traits.sha1Forms ? data : {})
        expect(await codec.decode(stored)).toEqual(traits.sha1Forms ? data : null)
      }
      const made = await legacy.call<Login>('login', { username: 'alice', password: 'alice-pw' })
      expect(made.data._auth_user_hash).toMatch(/^[0-9a-f]{40}$/)
      const users = djangoUsers({ client, secretKey: KEY, djangoVersion: version, iterations: ITERATIONS })
      const session = await managerFor().open(cookie(made.key))
      const user = await getUser(session, users)
      const seen = await django.call<Seen>('request', { key: made.key })
      expect(seen.user?.username ?? null).toBe(traits.sha1Forms ? 'alice' : null)
      expect(user?.username ?? null).toBe(traits.sha1Forms ? 'alice' : null)
    })
  })
}
