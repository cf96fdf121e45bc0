import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionStore } from '../src/index.ts'
import { dropNamespace, freshNamespace, redisClient, startServer, type TestRedis } from './helpers.ts'

// The `guard` extension: `set?guard=1` never overwrites data the sessionbridge client cannot decode
// (a value marked as JSON, `\u0000sbjson:`, whose JSON does not parse; a `d` that is not an object).
const MARKER = '\u0000sbjson:'
const redisUp = await serviceAvailable('redis')

describe.skipIf(!redisUp)('the guard extension of set', () => {
  const namespace = freshNamespace()
  let plain: Awaited<ReturnType<typeof startServer>>
  let strict: Awaited<ReturnType<typeof startServer>>
  let redis: TestRedis
  beforeAll(async () => {
    plain = await startServer({ namespace })
    strict = await startServer({ namespace, strict: true })
    redis = await redisClient()
  })
  afterAll(async () => {
    await Promise.all([plain?.server.close(), strict?.server.close()])
    await dropNamespace(redis, namespace)
    await redis?.close()
  })

  const create = async (server = plain) => {
    const answer = await server.call('PUT', '/guard/create/u1?ip=10.0.0.1&ttl=600', { json: { a: 'x' } })
    return (answer.json as { token: string }).token
  }
  const stored = (token: string) => redis.hGet(`${namespace}:guard:${token}`, 'd')

  it('refuses to overwrite a marked value whose JSON does not parse, and says so', async () => {
    const token = await create()
    const bad = `${MARKER}{not json`
    expect((await plain.call('POST', `/guard/set/${token}`, { json: { b: bad } })).status).toBe(200)
    const before = await stored(token)
    for (const body of [{ b: 1 }, { a: 'y' }, { c: null }]) {
      const answer = await plain.call('POST', `/guard/set/${token}?guard=1&newttl=600`, { json: body })
      expect(answer.status).toBe(200)
      expect(answer.json).toEqual({ undecodable: true })
    }
    expect(await stored(token)).toBe(before)
    // Without the guard, the protocol's set still merges as before.
    const unguarded = await plain.call('POST', `/guard/set/${token}`, { json: { b: 2 } })
    expect((unguarded.json as { d: unknown }).d).toEqual({ a: 'x', b: 2 })
  })

  it('writes as usual over decodable data, marked JSON values included', async () => {
    const token = await create()
    const good = `${MARKER}{"n":[1,2,"\\u0000"]}`
    await plain.call('POST', `/guard/set/${token}`, { json: { j: good } })
    const answer = await plain.call('POST', `/guard/set/${token}?guard=1`, { json: { b: true } })
    expect((answer.json as { d: unknown }).d).toEqual({ a: 'x', j: good, b: true })
  })

  it('refuses a stored d that is not a JSON object (written by another program)', async () => {
    const token = await create()
    for (const garbage of ['{"a":', '[1,2]', 'plain text']) {
      await redis.hSet(`${namespace}:guard:${token}`, 'd', garbage)
      const answer = await plain.call('POST', `/guard/set/${token}?guard=1`, { json: { b: 1 } })
      expect(answer.json, garbage).toEqual({ undecodable: true })
      expect(await stored(token)).toBe(garbage)
    }
  })

  it('is not offered in strict mode: guard=1 is ignored there, as the original would', async () => {
    const token = await create(strict)
    await strict.call('POST', `/guard/set/${token}`, { json: { b: `${MARKER}{` } })
    const answer = await strict.call('POST', `/guard/set/${token}?guard=1`, { json: { b: 1 } })
    expect((answer.json as { d: unknown }).d).toEqual({ a: 'x', b: 1 })
  })

  it('holds in the non-atomic set too (read, check and merge in Node)', async () => {
    const store = sessionStore({ redis, namespace, atomicSet: false, warn: () => undefined })
    const token = await store.create('guard', 'u2', '10.0.0.1', 600, [['a', `${MARKER}nope`]])
    expect(await store.set('guard', token, [['b', 1]], undefined, true)).toBe('undecodable')
    expect(await stored(token)).toBe(JSON.stringify({ a: `${MARKER}nope` }))
    const fine = await store.create('guard', 'u2', '10.0.0.1', 600, [['a', `${MARKER}[1]`]])
    expect(await store.set('guard', fine, [['b', 1]], undefined, true)).toMatchObject({
      d: { a: `${MARKER}[1]`, b: 1 },
    })
  })
})
