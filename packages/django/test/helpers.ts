import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  djangoIdFormat,
  type SessionBackend,
  type SessionCodec,
  type SessionRecord,
} from '@sessionbridge/core'
import { BASIC_CAPABILITIES, sqlStatement } from '@sessionbridge/core/adapter'
import { DJANGO_PYTHON } from '@sessionbridge/test-services'
import type { DjangoInstall } from '@sessionbridge/test-services/django-versions'
import Database from 'better-sqlite3'
import pg from 'pg'
import { type DjangoSqlClient, fromSqlDate, toSqlDate } from '../src/index.ts'

const SCRIPT = fileURLToPath(new URL('./django/sbdjango.py', import.meta.url))

/** A running Django (our settings + sbdjango.py), answering one JSON command at a time. */
export interface DjangoProcess {
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>
  close(): Promise<void>
}

export function startDjango(env: {
  db: string
  secretKey: string
  /** `DEFAULT_HASHING_ALGORITHM` (3.2 only). */
  hashing?: 'sha1' | 'sha256'
  /** `SECRET_KEY_FALLBACKS` (4.1+). */
  fallbackKeys?: readonly string[]
  /** A first hasher with this PBKDF2 work factor (a project that raised it). */
  iterations?: number
  /** Which Django of the matrix; the system's (3.2) by default. */
  django?: DjangoInstall
  /** Connect the SQL README's `user_logged_in` receiver (`django/sbsessionuser.py`). */
  sessionUserReceiver?: boolean
}): DjangoProcess {
  return pythonPeer(env.django?.python ?? DJANGO_PYTHON, SCRIPT, {
    ...env.django?.env,
    SB_DB: env.db,
    SB_SECRET_KEY: env.secretKey,
    SB_HASHING_ALGORITHM: env.hashing ?? 'sha256',
    SB_SECRET_KEY_FALLBACKS: (env.fallbackKeys ?? []).join(','),
    SB_PBKDF2_ITERATIONS: env.iterations === undefined ? '' : String(env.iterations),
    PYTHONWARNINGS: 'ignore',
    SB_SESSION_USER_RECEIVER: env.sessionUserReceiver ? '1' : '',
  })
}

/**
 * A Python script speaking one JSON command per line on stdin and one JSON reply per line on
 * stdout (`{ ok, result | error }`), one command at a time; `env` is added to this process's.
 */
export function pythonPeer(
  python: string,
  script: string,
  env: Record<string, string | undefined>,
): DjangoProcess {
  const child: ChildProcessWithoutNullStreams = spawn(python, [script], { env: { ...process.env, ...env } })
  let buffer = ''
  let stderr = ''
  const waiting: ((line: string) => void)[] = []
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      waiting.shift()?.(line)
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  let queue: Promise<unknown> = Promise.resolve()
  return {
    call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
      const result = queue.then(
        () =>
          new Promise<T>((resolve, reject) => {
            if (child.exitCode !== null) return reject(new Error(`django exited: ${stderr}`))
            waiting.push((line) => {
              const reply = JSON.parse(line) as { ok: boolean; result?: T; error?: string }
              if (reply.ok) resolve(reply.result as T)
              else reject(new Error(`django ${cmd}: ${reply.error}`))
            })
            child.stdin.write(`${JSON.stringify({ cmd, args })}\n`)
          }),
      )
      queue = result.catch(() => {})
      return result
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.stdin.end()
      }),
  }
}

/** A minimal SqlClient over better-sqlite3 (until @sessionbridge/sql's adapters are used here). */
export function localSqliteClient(db: Database.Database): DjangoSqlClient {
  const client: DjangoSqlClient = {
    dialect: 'sqlite',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const stmt = db.prepare(sql)
      if (stmt.reader) {
        const rows = stmt.all(...(params as unknown[])) as Row[]
        return { rows, rowCount: rows.length }
      }
      return { rows: [] as Row[], rowCount: stmt.run(...(params as unknown[])).changes }
    },
    async transaction(fn) {
      db.exec('BEGIN IMMEDIATE')
      try {
        const result = await fn(client)
        db.exec('COMMIT')
        return result
      } catch (error) {
        db.exec('ROLLBACK')
        throw error
      }
    },
  }
  return client
}

/** A minimal SqlClient over a pg pool. */
export function localPgClient(pool: pg.Pool): DjangoSqlClient {
  const over = (conn: pg.Pool | pg.PoolClient): DjangoSqlClient => ({
    dialect: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await conn.query(sql, params as unknown[])
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
    },
    async transaction(fn) {
      const c = await pool.connect()
      try {
        await c.query('BEGIN')
        const result = await fn(over(c))
        await c.query('COMMIT')
        return result
      } catch (error) {
        await c.query('ROLLBACK')
        throw error
      } finally {
        c.release()
      }
    },
  })
  return over(pool)
}

export { Database, pg }

/**
 * A test-only store over Django's own `django_session` table, so core's Session can log in and out
 * against the very rows Django reads. (The real one is @sessionbridge/sql's django layout.)
 */
export function djangoSessionTable(client: DjangoSqlClient, codec: SessionCodec): SessionBackend {
  const sql = (build: (p: () => string) => string) => sqlStatement(client.dialect, build)
  const write = async (id: string, record: SessionRecord, insert: boolean) => {
    const data = await codec.encode(record.data)
    const expires = toSqlDate(client.dialect, new Date(record.expiresAt))
    if (insert) {
      await client.query(
        sql(
          (p) =>
            `INSERT INTO django_session (session_key, session_data, expire_date) VALUES (${p()}, ${p()}, ${p()})`,
        ),
        [id, data, expires],
      )
      return true
    }
    const { rowCount } = await client.query(
      sql(
        (p) =>
          `UPDATE django_session SET session_data = ${p()}, expire_date = ${p()} WHERE session_key = ${p()}`,
      ),
      [data, expires, id],
    )
    return rowCount > 0
  }
  return {
    name: 'django-table',
    capabilities: BASIC_CAPABILITIES,
    idFormat: djangoIdFormat,
    async load(id) {
      const { rows } = await client.query<{ session_data: string; expire_date: unknown }>(
        sql((p) => `SELECT session_data, expire_date FROM django_session WHERE session_key = ${p()}`),
        [id],
      )
      const row = rows[0]
      if (!row) return null
      const data = await codec.decode(row.session_data)
      const expiresAt = fromSqlDate(row.expire_date)?.getTime() ?? 0
      if (!data || expiresAt <= Date.now()) return null
      const user = data._auth_user_id
      return { data, expiresAt, userId: typeof user === 'string' ? user : null }
    },
    async create(id, record) {
      const { rows } = await client.query(
        sql((p) => `SELECT 1 AS x FROM django_session WHERE session_key = ${p()}`),
        [id],
      )
      if (rows.length > 0) return null
      await write(id, record, true)
      return id
    },
    save: (id, _changes, record) => write(id, record, false),
    async touch(id, expiresAt) {
      const { rowCount } = await client.query(
        sql((p) => `UPDATE django_session SET expire_date = ${p()} WHERE session_key = ${p()}`),
        [toSqlDate(client.dialect, new Date(expiresAt)), id],
      )
      return rowCount > 0
    },
    async destroy(id) {
      await client.query(
        sql((p) => `DELETE FROM django_session WHERE session_key = ${p()}`),
        [id],
      )
    },
  }
}
