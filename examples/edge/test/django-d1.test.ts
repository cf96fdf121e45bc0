// Django's sessions, users and signing inside workerd, on Cloudflare D1: a real Django makes the
// schema and the user, the Worker logs in against Django's password hash and writes Django's
// session format into D1, and the same Django reads what the Worker wrote (and the reverse).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type D1DatabaseLike, d1Client, migrate } from '@sessionbridge/sql'
import { serviceAvailable } from '@sessionbridge/test-services'
import { bundleWorker, type Miniflare, startWorker } from '@sessionbridge/test-services/workerd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, type DjangoProcess, startDjango } from '../../../packages/django/test/helpers.ts'
import { copySqliteToD1 } from './d1-copy.ts'

const KEY = 'edge-django-secret-key-0123456789abcdefghijklmnop'
const ALICE = { username: 'alice', password: 'älice pw ✓' }

describe.skipIf(!(await serviceAvailable('django')))(
  'Django sessions at the edge: Hono in workerd on D1',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-edge-django-'))
    const file = join(dir, 'django.sqlite3')
    let django: DjangoProcess
    let mf: Miniflare
    let db: D1DatabaseLike
    let aliceId: string

    beforeAll(async () => {
      django = startDjango({ db: `sqlite:${file}`, secretKey: KEY })
      await django.call('migrate')
      aliceId = String((await django.call<{ id: number }>('create_user', ALICE)).id)
      const entry = fileURLToPath(new URL('./django-d1-worker.ts', import.meta.url))
      // No externals: @sessionbridge/django's main entry imports no optional hasher (they are subpaths).
      const bundle = await bundleWorker(entry)
      mf = await startWorker(bundle.code, { d1Databases: ['DB'], bindings: { SECRET_KEY: KEY } })
      db = (await mf.getD1Database('DB')) as unknown as D1DatabaseLike
      await copySqliteToD1(file, db)
      await migrate(d1Client(db), { layout: 'native' })
    })
    afterAll(async () => {
      await mf?.dispose()
      await django?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    const call = async (path: string, init: RequestInit & { cookie?: string } = {}) => {
      const headers = new Headers(init.headers)
      if (init.cookie) headers.set('cookie', `sessionid=${init.cookie}`)
      const response = await mf.dispatchFetch(`http://edge.test${path}`, { ...init, headers } as never)
      const set = response.headers.getSetCookie()[0]
      return { response, cookie: set ? set.split(';')[0]!.slice('sessionid='.length) : null }
    }
    const post = (path: string, body: unknown, cookie?: string) =>
      call(path, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        cookie,
      })
    /** Copies one session row from D1 into Django's database, as if they shared it. */
    const handToDjango = async (key: string) => {
      const row = await db
        .prepare('SELECT session_key, session_data, expire_date FROM django_session WHERE session_key = ?')
        .bind(key)
        .all()
      const local = new Database(file)
      try {
        local
          .prepare('INSERT OR REPLACE INTO django_session VALUES (@session_key, @session_data, @expire_date)')
          .run(row.results![0] as never)
      } finally {
        local.close()
      }
    }

    it("runs on workerd with Web Crypto and CompressionStream, not Node's crypto and zlib", async () => {
      const { response } = await call('/runtime')
      expect(await response.json()).toEqual({
        userAgent: 'Cloudflare-Workers',
        compressionStream: 'function',
        nativeModules: false,
      })
    })

    it("logs in against Django's own password hash; Django accepts the session the Worker wrote", async () => {
      const wrong = await post('/django/login', { username: ALICE.username, password: 'nope' })
      expect(wrong.response.status).toBe(401)
      const login = await post('/django/login', ALICE)
      expect(await login.response.json()).toEqual({ ok: true, id: aliceId })
      const key = login.cookie!
      expect(key).toMatch(/^[a-z0-9]{32}$/)
      // Compressible data: Django's format then carries zlib from CompressionStream (leading '.').
      await post('/django/write', { key: 'note', value: 'édge '.repeat(400) }, key)

      const { results } = await db
        .prepare('SELECT session_data FROM django_session WHERE session_key = ?')
        .bind(key)
        .all()
      const sessionData = (results![0] as { session_data: string }).session_data
      expect(sessionData.startsWith('.')).toBe(true)
      const decoded = await django.call<{ value: Record<string, unknown> }>('decode', {
        session_data: sessionData,
      })
      expect(decoded.value).toMatchObject({ _auth_user_id: aliceId, note: 'édge '.repeat(400) })

      await handToDjango(key)
      const seen = await django.call<{ user: { username: string } | null }>('get_user', { key })
      expect(seen.user?.username, 'Django checks _auth_user_hash made by the Worker').toBe('alice')
    })

    it('reads a session Django wrote, compressed and signed, and logs out in D1', async () => {
      const made = await django.call<{ key: string }>('login', ALICE)
      const local = new Database(file, { readonly: true })
      const row = local.prepare('SELECT * FROM django_session WHERE session_key = ?').get(made.key) as Record<
        string,
        unknown
      >
      local.close()
      const data = await django.call<string>('encode', {
        data: { ...(await sessionOf(made.key)), big: 'x'.repeat(3000) },
      })
      expect(data.startsWith('.')).toBe(true)
      await db
        .prepare('INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)')
        .bind(made.key, data, row.expire_date)
        .all()
      expect(await (await call('/django/whoami', { cookie: made.key })).response.json()).toEqual({
        user: 'alice',
      })
      expect(await (await call('/django/read?key=big', { cookie: made.key })).response.json()).toEqual({
        value: 'x'.repeat(3000),
      })
      const logout = await post('/django/logout', {}, made.key)
      expect(logout.response.status).toBe(204)
      const { results } = await db
        .prepare('SELECT 1 AS x FROM django_session WHERE session_key = ?')
        .bind(made.key)
        .all()
      expect(results).toEqual([])
    })

    it('signs values Django loads, and loads values Django signed (compressed)', async () => {
      const value = { cart: [1, 2, 3], who: 'jörg', text: 'abc'.repeat(200) }
      const signed = await (await post('/sign', value)).response.text()
      expect(signed.startsWith('.')).toBe(true)
      expect(await django.call('loads', { signed, salt: 'edge.test' })).toEqual({ value })
      const fromDjango = await django.call<string>('dumps', { value, salt: 'edge.test', compress: true })
      expect(
        await (await call('/unsign', { method: 'POST', body: fromDjango })).response.json(),
      ).toMatchObject({
        ok: true,
        value,
      })
      const tampered = `${fromDjango.slice(0, -2)}xx`
      expect(await (await call('/unsign', { method: 'POST', body: tampered })).response.json()).toEqual({
        ok: false,
        reason: 'bad-signature',
      })
    })

    it('keeps native-layout sessions in D1 as well', async () => {
      const first = await post('/native/write', { key: 'a', value: { n: 1 } })
      const id = first.cookie!
      expect(id).toMatch(/^[a-z0-9]{32}$/)
      await post('/native/write', { key: 'b', value: 'two' }, id)
      expect(await (await call('/native/read?key=a', { cookie: id })).response.json()).toEqual({
        value: { n: 1 },
      })
      const { results } = await db
        .prepare('SELECT data FROM sessionbridge_session WHERE id = ?')
        .bind(id)
        .all()
      expect(JSON.parse((results![0] as { data: string }).data)).toMatchObject({ a: { n: 1 }, b: 'two' })
    })

    /** The data of a session in Django's database, as Django decodes it. */
    async function sessionOf(key: string): Promise<Record<string, unknown>> {
      return (await django.call<{ data: Record<string, unknown> }>('read_session', { key })).data
    }
  },
)
