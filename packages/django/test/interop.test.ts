import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessionManager, getUser, login, logout, type SessionManager } from '@sessionbridge/core'
import { pgClient, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DjangoSqlClient, type DjangoUsers, djangoCodec, djangoUsers } from '../src/index.ts'
import { Database, type DjangoProcess, pg, startDjango } from './helpers.ts'

const KEY = 'interop-secret-key-0123456789abcdefghij'
const haveDjango = await serviceAvailable('django')
const havePostgres = haveDjango && (await serviceAvailable('postgres'))

interface Target {
  db: string
  client: DjangoSqlClient
  close(): Promise<void>
}

async function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-django-interop-'))
  const file = join(dir, 'db.sqlite3')
  const db = new Database(file)
  db.pragma('busy_timeout = 5000')
  const client = sqliteClient(db) as DjangoSqlClient
  return {
    db: `sqlite:${file}`,
    client,
    async close() {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function postgresTarget(): Promise<Target> {
  const admin = new pg.Client({ connectionString: SERVICE_URLS.postgres })
  await admin.connect()
  await admin.query('DROP DATABASE IF EXISTS sb_django WITH (FORCE)')
  await admin.query('CREATE DATABASE sb_django')
  await admin.end()
  const url = new URL(SERVICE_URLS.postgres)
  url.pathname = '/sb_django'
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 })
  pool.on('error', () => {})
  return { db: 'postgres:sb_django', client: pgClient(pool) as DjangoSqlClient, close: () => pool.end() }
}

const targets: [string, boolean, () => Promise<Target>][] = [
  ['SQLite', haveDjango, sqliteTarget],
  ['PostgreSQL', havePostgres, postgresTarget],
]

for (const [name, available, open] of targets) {
  describe.skipIf(!available)(`Django 3.2 and sessionbridge share users and sessions (${name})`, () => {
    let target: Target
    let django: DjangoProcess
    let users: DjangoUsers
    let manager: SessionManager
    const cookie = (key: string) => ({ cookie: `sessionid=${key}` })
    const keyOf = (setCookie: string | null) => /sessionid=([a-z0-9]{32})/.exec(setCookie ?? '')?.[1] ?? null

    beforeAll(async () => {
      target = await open()
      django = startDjango({ db: target.db, secretKey: KEY })
      await django.call('migrate')
      const client = target.client
      const codec = djangoCodec({ secretKey: KEY })
      users = djangoUsers({ client, secretKey: KEY })
      manager = createSessionManager({
        backend: sqlBackend({ client, layout: 'django', codec }),
        touchInterval: false,
      })
      await django.call('create_user', {
        username: 'alice',
        password: 'alice-pw-1',
        email: 'alice@example.com',
      })
    }, 120_000)
    afterAll(async () => {
      await django?.close()
      await target?.close()
    })

    /** Logs in on the Node side, like a login view: find, verify, login, commit. */
    async function nodeLogin(username: string, password: string, fromKey?: string) {
      const session = await manager.open(fromKey ? cookie(fromKey) : {})
      const user = await users.findByLogin(username)
      if (!(await users.verifyPassword(user, password)) || !user) return null
      await login(session, user, users)
      return keyOf((await session.commit()).setCookie)
    }

    it('reads a login made by Django: session, user and last_login', async () => {
      const made = await django.call<{ key: string; data: Record<string, string> }>('login', {
        username: 'alice',
        password: 'alice-pw-1',
      })
      const session = await manager.open(cookie(made.key))
      const user = await getUser(session, users)
      expect(user).toMatchObject({
        username: 'alice',
        email: 'alice@example.com',
        isActive: true,
        isSuperuser: false,
      })
      expect(String(user!.id)).toBe(made.data._auth_user_id)
      expect(user!.lastLogin).toBeInstanceOf(Date)
      expect(Math.abs(user!.lastLogin!.getTime() - Date.now())).toBeLessThan(60_000)
      expect(await session.get('_auth_user_hash')).toBe(await users.sessionHash(user!))
    })

    it('logs in on the Node side; Django accepts the session and sees last_login', async () => {
      const anonymous = await manager.open({})
      anonymous.set('cart', ['book', 'ü'])
      const before = keyOf((await anonymous.commit()).setCookie)!
      const key = await nodeLogin('alice', 'alice-pw-1', before)
      expect(key).toMatch(/^[a-z0-9]{32}$/)
      expect(key).not.toBe(before) // the key always changes on login
      expect(await django.call('read_session', { key: before })).toMatchObject({ exists: false })
      const seen = await django.call<{ user: { username: string } | null; exists: boolean }>('get_user', {
        key,
      })
      expect(seen).toMatchObject({ user: { username: 'alice' }, exists: true })
      const read = await django.call<{ data: Record<string, unknown> }>('read_session', { key })
      expect(read.data).toMatchObject({
        cart: ['book', 'ü'],
        _auth_user_id: expect.stringMatching(/^\d+$/),
        _auth_user_backend: 'django.contrib.auth.backends.ModelBackend',
        _auth_user_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      })
      const row = await django.call<{ last_login: string }>('user', { username: 'alice' })
      expect(Math.abs(Date.parse(row.last_login) - Date.now())).toBeLessThan(60_000)
    })

    it('refuses a wrong password and unknown users (spending the hashing time)', async () => {
      expect(await nodeLogin('alice', 'nope')).toBeNull()
      expect(await users.findByLogin('nobody')).toBeNull()
      expect(await users.verifyPassword(null, 'x')).toBe(false)
      expect(await users.getById('999999')).toBeNull()
      expect(await users.getById('not-a-number')).toBeNull()
    })

    it('logs out on the Node side; Django no longer has the session', async () => {
      const key = (await nodeLogin('alice', 'alice-pw-1'))!
      const session = await manager.open(cookie(key))
      logout(session)
      await session.commit()
      expect(await django.call('get_user', { key })).toEqual({ user: null, exists: false })
    })

    it('a password changed in Django logs the Node session out (and the row is flushed)', async () => {
      await django.call('create_user', { username: 'bob', password: 'bob-pw-1' })
      const key = (await nodeLogin('bob', 'bob-pw-1'))!
      expect((await getUser(await manager.open(cookie(key)), users))?.username).toBe('bob')
      await django.call('change_password', { username: 'bob', password: 'bob-pw-2' })
      const session = await manager.open(cookie(key))
      expect(await getUser(session, users)).toBeNull()
      await session.commit()
      expect(await django.call('read_session', { key })).toMatchObject({ exists: false })
      expect(await nodeLogin('bob', 'bob-pw-2')).toMatch(/^[a-z0-9]{32}$/)
    })

    it('a password changed in Node logs the Django session out; Django checks the new password', async () => {
      await django.call('create_user', { username: 'carol', password: 'carol-pw-1' })
      const made = await django.call<{ key: string }>('login', { username: 'carol', password: 'carol-pw-1' })
      const carol = (await users.findByLogin('carol'))!
      await users.setPassword(carol, 'carol-pw-2 ✓')
      expect(await django.call('get_user', { key: made.key })).toEqual({ user: null, exists: false })
      expect(
        await django.call('check_password', { username: 'carol', password: 'carol-pw-2 ✓' }),
      ).toMatchObject({ ok: true })
    })

    it('registers users that Django logs in, and re-hashes old hashes on login as Django does', async () => {
      const dave = await users.register({
        username: 'dave',
        password: 'dave-pw',
        email: 'Dave@EXAMPLE.com',
        firstName: 'Dave',
      })
      expect(dave).toMatchObject({
        username: 'dave',
        email: 'Dave@example.com',
        isActive: true,
        isStaff: false,
      })
      expect(await users.register({ username: 'dave', password: 'x' })).toBeNull()
      expect(await django.call('login', { username: 'dave', password: 'dave-pw' })).toMatchObject({
        key: expect.any(String),
      })
      // An older, cheaper hash made by Django is upgraded on a Node login.
      const old = await django.call<string>('make_password', {
        password: 'dave-pw',
        hasher: 'pbkdf2_sha256',
        salt: 'NaClNaClNaClNaClNaCl22',
        iterations: 1000,
      })
      dave!.password = old
      await users.save(dave!, ['password'])
      const reloaded = (await users.findByLogin('dave'))!
      expect(reloaded.password).toBe(old)
      expect(await users.verifyPassword(reloaded, 'dave-pw')).toBe(true)
      expect(reloaded.password).toMatch(/^pbkdf2_sha256\$260000\$/)
      const inDjango = await django.call<{ password: string }>('user', { username: 'dave' })
      expect(inDjango.password).toBe(reloaded.password)
      expect(await django.call('must_update', { encoded: inDjango.password })).toBe(false)
    })

    it('finds users by email only when exactly one has it', async () => {
      expect((await users.findByLogin('alice@example.com'))?.username).toBe('alice')
      await django.call('create_user', { username: 'erin', password: 'erin-pw', email: 'shared@example.com' })
      await django.call('create_user', {
        username: 'frank',
        password: 'frank-pw',
        email: 'shared@example.com',
      })
      expect(await users.findByLogin('shared@example.com')).toBeNull()
      const strict = djangoUsers({ client: target.client, secretKey: KEY, loginFields: ['username'] })
      expect(await strict.findByLogin('alice@example.com')).toBeNull()
    })

    it('answers has_perm like Django: user and group permissions, superusers, inactive users', async () => {
      await django.call('create_user', { username: 'gina', password: 'gina-pw' })
      await django.call('grant', { username: 'gina', perm: 'auth.view_user' })
      await django.call('grant', { username: 'gina', perm: 'sessions.change_session', group: 'editors' })
      await django.call('create_user', { username: 'root', password: 'root-pw', is_superuser: true })
      await django.call('create_user', {
        username: 'gone',
        password: 'gone-pw',
        is_superuser: true,
        is_active: false,
      })
      const perms = ['auth.view_user', 'sessions.change_session', 'auth.delete_user', 'nonsense.perm']
      for (const username of ['gina', 'root', 'gone', 'alice']) {
        const user = (await users.findByLogin(username))!
        for (const perm of perms) {
          const expected = await django.call<boolean>('has_perm', { username, perm })
          expect([username, perm, await users.hasPerm(user, perm)]).toEqual([username, perm, expected])
        }
      }
      // One query per user object (= per request), however many checks.
      let queries = 0
      const counted: DjangoSqlClient = {
        dialect: target.client.dialect,
        query: (sql, params) => {
          queries++
          return target.client.query(sql, params)
        },
        transaction: (fn) => target.client.transaction(fn),
      }
      const counting = djangoUsers({ client: counted, secretKey: KEY })
      const gina = (await counting.findByLogin('gina'))!
      queries = 0
      for (const perm of perms) await counting.hasPerm(gina, perm)
      expect(queries).toBe(1)
      const root = (await users.findByLogin('root'))!
      expect((await users.allPermissions(root)).has('auth.add_user')).toBe(true)
    })

    it('verifies session hashes under fallback keys and the legacy SHA-1 hash of DEFAULT_HASHING_ALGORITHM=sha1', async () => {
      const legacy = startDjango({ db: target.db, secretKey: KEY, hashing: 'sha1' })
      try {
        const made = await legacy.call<{ key: string; data: Record<string, string> }>('login', {
          username: 'alice',
          password: 'alice-pw-1',
        })
        expect(made.data._auth_user_hash).toMatch(/^[0-9a-f]{40}$/)
        const session = await manager.open(cookie(made.key))
        expect((await getUser(session, users))?.username).toBe('alice')
      } finally {
        await legacy.close()
      }
      const made = await django.call<{ key: string }>('login', { username: 'alice', password: 'alice-pw-1' })
      const alice = (await users.findByLogin('alice'))!
      const hash = (await django.call<{ data: Record<string, string> }>('read_session', { key: made.key }))
        .data._auth_user_hash!
      const rotated = djangoUsers({
        client: target.client,
        secretKey: 'a-brand-new-secret-key-0123456789',
        fallbackKeys: [KEY],
      })
      expect(await rotated.verifySessionHash(alice, hash)).toBe(true)
      expect(await rotated.sessionHash(alice)).not.toBe(hash)
      const foreign = djangoUsers({ client: target.client, secretKey: 'a-brand-new-secret-key-0123456789' })
      expect(await foreign.verifySessionHash(alice, hash)).toBe(false)
      expect(await users.verifySessionHash(alice, '')).toBe(false)
    })
  })
}
