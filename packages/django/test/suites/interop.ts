import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessionManager, getUser, login, logout, type SessionManager } from '@sessionbridge/core'
import { pgClient, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import type { DjangoInstall } from '@sessionbridge/test-services/django-versions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DjangoSqlClient,
  type DjangoUsers,
  type DjangoVersion,
  djangoCodec,
  djangoUsers,
} from '../../src/index.ts'
import { Database, type DjangoProcess, pg, startDjango } from '../helpers.ts'

const KEY = 'interop-secret-key-0123456789abcdefghij'
// The same explicit work factor on both sides (Django: a first hasher with these iterations), so a
// login costs milliseconds; the version defaults are covered by the hasher suite.
const ITERATIONS = 2000

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
  // Unique per run: other suites (and other runs) use the same server at the same time.
  const name = `sb_django_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: SERVICE_URLS.postgres })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(SERVICE_URLS.postgres)
  url.pathname = `/${name}`
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 })
  pool.on('error', () => {})
  return {
    db: `postgres:${name}`,
    client: pgClient(pool) as DjangoSqlClient,
    async close() {
      await pool.end()
      const cleanup = new pg.Client({ connectionString: SERVICE_URLS.postgres })
      await cleanup.connect()
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await cleanup.end()
    },
  }
}

/** Users and sessions shared with one Django of the matrix, on SQLite and PostgreSQL. */
export async function interopSuite(install: DjangoInstall): Promise<void> {
  const djangoVersion = install.line as DjangoVersion
  const havePostgres = install.available && (await serviceAvailable('postgres'))
  const targets: [string, boolean, () => Promise<Target>][] = [
    ['SQLite', install.available, sqliteTarget],
    ['PostgreSQL', havePostgres, postgresTarget],
  ]
  for (const [name, available, open] of targets) {
    describe.skipIf(!available)(
      `Django ${install.line} and sessionbridge share users and sessions (${name})`,
      () => {
        let target: Target
        let django: DjangoProcess
        let users: DjangoUsers
        let manager: SessionManager
        const cookie = (key: string) => ({ cookie: `sessionid=${key}` })
        const keyOf = (setCookie: string | null) =>
          /sessionid=([a-z0-9]{32})/.exec(setCookie ?? '')?.[1] ?? null

        beforeAll(async () => {
          target = await open()
          django = startDjango({ db: target.db, secretKey: KEY, django: install, iterations: ITERATIONS })
          await django.call('migrate')
          const client = target.client
          const codec = djangoCodec({ secretKey: KEY, djangoVersion })
          users = djangoUsers({ client, secretKey: KEY, djangoVersion, iterations: ITERATIONS })
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
          const made = await django.call<{ key: string }>('login', {
            username: 'carol',
            password: 'carol-pw-1',
          })
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
          expect(reloaded.password).toMatch(new RegExp(`^pbkdf2_sha256\\$${ITERATIONS}\\$`))
          const inDjango = await django.call<{ password: string }>('user', { username: 'dave' })
          expect(inDjango.password).toBe(reloaded.password)
          expect(await django.call('must_update', { encoded: inDjango.password })).toBe(false)
        })

        it('alternating logins on both sides rewrite a hash at most once and log nobody out (no ping-pong)', async () => {
          await django.call('create_user', { username: 'pat', password: 'pat-pw' })
          const setHash = async (encoded: string) => {
            const pat = (await users.findByLogin('pat'))!
            pat.password = encoded
            await users.save(pat, ['password'])
          }
          const passwordOf = async () =>
            (await django.call<{ password: string }>('user', { username: 'pat' })).password
          const rounds = async () => {
            const nodeKey = (await nodeLogin('pat', 'pat-pw'))!
            const afterNode = await passwordOf()
            const djangoKey = (
              await django.call<{ key: string }>('login', { username: 'pat', password: 'pat-pw' })
            ).key
            const afterDjango = await passwordOf()
            const nodeKey2 = (await nodeLogin('pat', 'pat-pw'))!
            expect(await passwordOf()).toBe(afterDjango)
            // Every session made since the last rewrite is still logged in, on both sides.
            const alive = afterDjango === afterNode ? [nodeKey, djangoKey, nodeKey2] : [djangoKey, nodeKey2]
            for (const key of alive) {
              expect(
                (await django.call<{ user: { username: string } | null }>('get_user', { key })).user
                  ?.username,
              ).toBe('pat')
              expect((await getUser(await manager.open(cookie(key)), users))?.username).toBe('pat')
            }
            return { afterNode, afterDjango }
          }
          // A weaker hash: Node upgrades it once to the shared work factor, Django keeps that.
          await setHash(
            await django.call<string>('make_password', {
              password: 'pat-pw',
              hasher: 'pbkdf2_sha256',
              salt: 'NaClNaClNaClNaClNaCl22',
              iterations: 1000,
            }),
          )
          const weak = await rounds()
          expect(weak.afterNode).toMatch(new RegExp(`^pbkdf2_sha256\\$${ITERATIONS}\\$`))
          expect(weak.afterDjango).toBe(weak.afterNode)
          // A stronger hash (from a newer Django): Node never rewrites it down; only Django does, once.
          const strong = await django.call<string>('make_password', {
            password: 'pat-pw',
            hasher: 'pbkdf2_sha256',
            salt: 'NaClNaClNaClNaClNaCl22',
            iterations: ITERATIONS * 2,
          })
          await setHash(strong)
          const rounds2 = await rounds()
          expect(rounds2.afterNode).toBe(strong)
          expect(rounds2.afterDjango).toMatch(new RegExp(`^pbkdf2_sha256\\$${ITERATIONS}\\$`))
        })

        it('finds users by email only when exactly one has it', async () => {
          expect((await users.findByLogin('alice@example.com'))?.username).toBe('alice')
          await django.call('create_user', {
            username: 'erin',
            password: 'erin-pw',
            email: 'shared@example.com',
          })
          await django.call('create_user', {
            username: 'frank',
            password: 'frank-pw',
            email: 'shared@example.com',
          })
          expect(await users.findByLogin('shared@example.com')).toBeNull()
          const strict = djangoUsers({
            client: target.client,
            secretKey: KEY,
            djangoVersion,
            loginFields: ['username'],
          })
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
          const counting = djangoUsers({ client: counted, secretKey: KEY, djangoVersion })
          const gina = (await counting.findByLogin('gina'))!
          queries = 0
          for (const perm of perms) await counting.hasPerm(gina, perm)
          expect(queries).toBe(1)
          const root = (await users.findByLogin('root'))!
          expect((await users.allPermissions(root)).has('auth.add_user')).toBe(true)
        })
      },
    )
  }
}
