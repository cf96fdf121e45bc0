import { createSessionManager, jsonCodec, type SessionCodec } from '@sessionbridge/core'
import { isPlainObject, randomString } from '@sessionbridge/core/adapter'
import { djangoCodec, TimestampSigner } from '@sessionbridge/django'
import { memcachedBackend } from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { djangoTableDdl, migrate, pgClient, sqlBackend } from '@sessionbridge/sql'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import fc from 'fast-check'
import { createClient } from 'redis'
import { describe, expect, it, vi } from 'vitest'
import { BATCH, batch, batchedParams, byteString, FUZZ_RUNS, FUZZ_TIMEOUT, fuzzParams } from '../src/fuzz.ts'
import { memcachedRaw } from '../src/memcached-raw.ts'
import { ensurePgDatabase, pgPool, relPrefix, relTable } from '../src/services.ts'

vi.setConfig({ testTimeout: FUZZ_TIMEOUT })

const quiet = { warn() {} }
const SECRET = 'reliability-django-secret-key-of-fifty-characters-x'
const django = djangoCodec({ secretKey: SECRET, logger: quiet })
const sessionSalt = 'django.contrib.sessions.SessionStore'
const VALID = { _auth_user_id: '1', cart: [1, 2, 3], note: 'x'.repeat(200) }
const newId = () => randomString(32, 'abcdefghijklmnopqrstuvwxyz0123456789')

/** A stored value: as is, or a payload signed with the real key (a forger's best case). */
type Stored = { raw: string } | { signed: string }

/** Every way a stored value can be wrong for the codec reading it. */
async function hostileStored(): Promise<fc.Arbitrary<Stored>> {
  const valid = await django.encode(VALID)
  return fc.oneof(
    byteString().map((raw) => ({ raw })),
    fc.nat({ max: valid.length - 1 }).map((n) => ({ raw: valid.slice(0, n) })), // truncated
    fc
      .tuple(fc.nat({ max: valid.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([i, ch]) => ({ raw: valid.slice(0, i) + ch + valid.slice(i + 1) })), // tampered
    fc.json().map((raw) => ({ raw })), // another codec's output
    // Correctly signed, but the payload is garbage, non-object JSON, or a bad compressed stream.
    fc.oneof(byteString(60), fc.json()).map((signed) => ({ signed })),
    fc
      .uint8Array({ maxLength: 80 })
      .map((bytes) => ({ signed: `.${Buffer.from(bytes).toString('base64url')}` })),
  )
}

async function materialise(value: Stored): Promise<string> {
  if ('raw' in value) return value.raw
  return new TimestampSigner({ key: SECRET, salt: sessionSalt }).sign(value.signed)
}

async function expectDecodeSafe(codec: SessionCodec, stored: string) {
  const decoded = await codec.decode(stored)
  if (decoded !== null) expect(isPlainObject(decoded)).toBe(true)
}

describe('hostile stored data through the codecs', () => {
  it('djangoCodec: truncated, tampered, foreign or badly compressed data decode to null, never a crash', async () => {
    const arbitrary = await hostileStored()
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        const stored = await materialise(value)
        await expectDecodeSafe(django, stored)
        // Without the key nothing but the untouched original verifies.
        if ('raw' in value) {
          const decoded = await django.decode(stored)
          if (decoded !== null) expect(decoded).toEqual(VALID)
        }
      }),
      fuzzParams(),
    )
  })

  it('wrong codec: Django data read as JSON and JSON read as Django are both null', async () => {
    expect(await jsonCodec.decode(await django.encode({ a: 1 }))).toBeNull()
    expect(await django.decode(await jsonCodec.encode({ a: 1 }))).toBeNull()
  })
})

const redisUp = await serviceAvailable('redis')
describe.skipIf(!redisUp)('hostile stored records: redis', () => {
  it('random hash fields and values load as null or a well-formed record', async () => {
    const client = createClient({ url: SERVICE_URLS.redis })
    client.on('error', () => {})
    await client.connect()
    const prefix = relPrefix('fuzz')
    const backend = redisBackend({ client: nodeRedisAdapter(client), prefix, logger: quiet })
    const manager = createSessionManager({ backend, logger: quiet })
    const field = fc.oneof(fc.constantFrom('m:exp', 'm:uid', 'd:a', 'd:_auth_user_id'), byteString(12))
    const value = fc.oneof(
      byteString(40),
      fc.json(),
      fc.constantFrom('-', '+1', '1e400', '-1', '9'.repeat(30)),
    )
    const ids = Array.from({ length: BATCH }, newId)
    const check = async (id: string, pairs: [string, string][]) => {
      await client.multi().del(`${prefix}${id}`).hSet(`${prefix}${id}`, Object.fromEntries(pairs)).exec()
      const record = await backend.load(id)
      if (record === null) return
      expect(isPlainObject(record.data)).toBe(true)
      // A whole request over a record that loaded: no exception escapes.
      const session = await manager.open({ cookie: `sessionid=${id}` })
      await session.all()
      session.set('n', 1)
      await session.commit()
    }
    try {
      await fc.assert(
        fc.asyncProperty(batch(fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 6 })), (values) =>
          Promise.all(values.map((pairs, i) => check(ids[i]!, pairs))).then(() => undefined),
        ),
        batchedParams(),
      )
    } finally {
      await client.del(ids.map((id) => `${prefix}${id}`))
      client.destroy()
    }
  })
})

const memcachedUp = await serviceAvailable('memcached')
describe.skipIf(!memcachedUp)('hostile stored records: memcached', () => {
  it('random bytes under a session key load as null or a well-formed record', async () => {
    const server = SERVICE_URLS.memcached.split(',')[0]!.trim()
    const raw = await memcachedRaw(server)
    const prefix = relPrefix('fuzz')
    // The target's cases are split over the two codecs.
    for (const codec of [jsonCodec, django]) {
      const backend = memcachedBackend({ servers: [server], prefix, codec, logger: quiet })
      const ids = Array.from({ length: BATCH }, newId)
      const header = fc.constantFrom('', 'sb1 null\n', 'sb1 "1"\n', 'sb1 {\n', 'sb1 1\n')
      const check = async (id: string, [head, bytes]: [string, Uint8Array]) => {
        await raw.set(`${prefix}${id}`, Buffer.concat([Buffer.from(head), bytes]))
        const record = await backend.load(id)
        if (record !== null) expect(isPlainObject(record.data)).toBe(true)
      }
      try {
        await fc.assert(
          fc.asyncProperty(batch(fc.tuple(header, fc.uint8Array({ maxLength: 200 }))), (values) =>
            Promise.all(values.map((value, i) => check(ids[i]!, value))).then(() => undefined),
          ),
          batchedParams(Math.ceil(FUZZ_RUNS / 2)),
        )
      } finally {
        for (const id of ids) await backend.destroy(id)
        await backend.close?.()
      }
    }
    raw.close()
  })
})

const pgUp = await serviceAvailable('postgres')
describe.skipIf(!pgUp)('hostile stored records: PostgreSQL, native layout', () => {
  it('any JSON in the data column, any expiry and user id: null or a well-formed record', async () => {
    await ensurePgDatabase()
    const pool = pgPool()
    const client = pgClient(pool)
    const table = relTable('natfuzz')
    await migrate(client, { layout: 'native', table })
    const backend = sqlBackend({ client, layout: 'native', table, logger: quiet })
    const manager = createSessionManager({ backend, logger: quiet })
    const ids = Array.from({ length: BATCH }, newId)
    const expiry = fc.oneof(
      fc.constant(Date.now() + 3_600_000),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    )
    type Row = [unknown, number | string, string | null]
    const check = async (id: string, [data, expiresAt, user]: Row) => {
      await pool.query(
        `INSERT INTO ${table} (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at, user_id = EXCLUDED.user_id`,
        // PostgreSQL text cannot hold NUL, in jsonb either.
        [
          id,
          JSON.stringify(data).replaceAll('\\u0000', ''),
          expiresAt,
          user?.replaceAll('\u0000', '') ?? null,
        ],
      )
      const record = await backend.load(id)
      if (record === null) return
      expect(isPlainObject(record.data)).toBe(true)
      const session = await manager.open({ cookie: `sessionid=${id}` })
      await session.all()
      session.set('n', 1)
      await session.commit()
    }
    const row: fc.Arbitrary<Row> = fc.tuple(fc.jsonValue(), expiry, fc.option(fc.string({ maxLength: 20 })))
    try {
      await fc.assert(
        fc.asyncProperty(batch(row), (values) =>
          Promise.all(values.map((value, i) => check(ids[i]!, value))).then(() => undefined),
        ),
        batchedParams(),
      )
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`)
      await pool.end()
    }
  })
})

describe.skipIf(!pgUp)('hostile stored records: PostgreSQL, Django layout', () => {
  it('random session_data through djangoCodec loads as null, never a crash', async () => {
    await ensurePgDatabase()
    const pool = pgPool()
    const client = pgClient(pool)
    const table = relTable('djfuzz')
    for (const statement of djangoTableDdl('postgres', table)) await client.query(statement)
    const backend = sqlBackend({ client, layout: 'django', table, codec: django, logger: quiet })
    const ids = Array.from({ length: BATCH }, newId)
    const check = async (id: string, value: Stored) => {
      // PostgreSQL text cannot hold NUL; everything else goes in as is.
      const stored = (await materialise(value)).replaceAll('\u0000', '')
      await pool.query(
        `INSERT INTO ${table} (session_key, session_data, expire_date) VALUES ($1, $2, now() + interval '1 hour')
         ON CONFLICT (session_key) DO UPDATE SET session_data = EXCLUDED.session_data`,
        [id, stored],
      )
      const record = await backend.load(id)
      if (record !== null) expect(isPlainObject(record.data)).toBe(true)
    }
    const arbitrary = await hostileStored()
    try {
      await fc.assert(
        fc.asyncProperty(batch(arbitrary), (values) =>
          Promise.all(values.map((value, i) => check(ids[i]!, value))).then(() => undefined),
        ),
        batchedParams(),
      )
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`)
      await pool.end()
    }
  })
})
