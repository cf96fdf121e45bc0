// What Redis runs per backend call, counted by a MONITOR connection (which lists the commands a
// script runs too): the budget of issue 22, where a save used to run 8 and a touch 6.
import { serviceAvailable } from '@sessionbridge/test-services'
import type { RedisClientType } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeRedisAdapter, redisBackend } from '../src/index.ts'
import { deleteKeys, nodeClient, testPrefix } from './helpers.ts'

const HOUR = 3_600_000

describe.skipIf(!(await serviceAvailable('redis')))('Redis commands per backend call', () => {
  const prefix = testPrefix('budget')
  let client: RedisClientType
  let monitor: RedisClientType
  const seen: string[] = []
  beforeAll(async () => {
    ;[client, monitor] = await Promise.all([nodeClient(), nodeClient()])
    await monitor.monitor((line: string) => {
      if (line.includes(prefix)) seen.push(line)
    })
  })
  afterAll(async () => {
    await monitor?.destroy()
    await deleteKeys(nodeRedisAdapter(client), prefix)
    await client?.destroy()
  })

  /** The commands `run` made Redis run on our keys, by name (EVALSHA counted, as INFO commandstats does). */
  const commands = async (run: () => Promise<unknown>) => {
    const settle = async () => {
      await client.ping() // MONITOR lines arrive in order; let them drain
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await settle()
    seen.length = 0
    await run()
    await settle()
    return seen.map((line) => /"([A-Za-z]+)"/.exec(line)?.[1]?.toUpperCase())
  }

  it('a load runs 2 (EVALSHA, HGETALL); a save 4 (EVALSHA, HGETALL, HSET, PEXPIREAT), with a deletion 5; a touch 4; an update 5, then 4', async () => {
    const backend = redisBackend({ client: nodeRedisAdapter(client), prefix, userIndex: false })
    const record = (data: Record<string, unknown>) => ({ data, expiresAt: Date.now() + HOUR, userId: null })
    const id = (await backend.create(backend.idFormat.generate(), record({ count: 0, note: 'x' })))!
    expect(await commands(() => backend.load(id))).toEqual(['EVALSHA', 'HGETALL'])
    const saved = await commands(() =>
      backend.save(id, { set: { count: 1 }, deleted: [] }, record({ count: 1 })),
    )
    expect(saved).toEqual(['EVALSHA', 'HGETALL', 'HSET', 'PEXPIREAT'])
    const deleting = await commands(() =>
      backend.save(id, { set: { count: 2 }, deleted: ['note'] }, record({ count: 2 })),
    )
    expect(deleting).toEqual(['EVALSHA', 'HGETALL', 'HSET', 'HDEL', 'PEXPIREAT'])
    const touched = await commands(() => backend.touch(id, Date.now() + HOUR))
    expect(touched).toEqual(['EVALSHA', 'HMGET', 'HSET', 'PEXPIREAT'])
    const updated = await commands(() =>
      backend.update!(id, 'count', (n) => (n as number) + 1, {
        expiresAt: Date.now() + HOUR,
        userId: null,
        maxAttempts: 3,
      }),
    )
    // The first HGETALL is update()'s read, the second the script's; it answers without another.
    expect(updated).toEqual(['HGETALL', 'EVALSHA', 'HGETALL', 'HSET', 'PEXPIREAT'])
    // The next update of that session starts from the hash the last one wrote: no read first.
    const again = await commands(() =>
      backend.update!(id, 'count', (n) => (n as number) + 1, {
        expiresAt: Date.now() + HOUR,
        userId: null,
        maxAttempts: 3,
      }),
    )
    expect(again).toEqual(['EVALSHA', 'HGETALL', 'HSET', 'PEXPIREAT'])
    expect((await backend.load(id))?.data).toEqual({ count: 4 })
  })

  it('creates and saves more fields than one Lua unpack takes (500 pairs per command)', async () => {
    const backend = redisBackend({ client: nodeRedisAdapter(client), prefix, userIndex: false })
    const many = (n: number, value: unknown) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]))
    const id = (await backend.create(backend.idFormat.generate(), {
      data: many(1200, 1),
      expiresAt: Date.now() + HOUR,
      userId: null,
    }))!
    expect(Object.keys((await backend.load(id))!.data)).toHaveLength(1200)
    const deleted = Object.keys(many(1100, 0)).slice(0, 1100)
    const set = Object.fromEntries(Array.from({ length: 1300 }, (_, i) => [`n${i}`, i]))
    const after = { ...Object.fromEntries(Object.entries(many(1200, 1)).slice(1100)), ...set }
    const written = await commands(() =>
      backend.save(id, { set, deleted }, { data: after, expiresAt: Date.now() + HOUR, userId: null }),
    )
    expect(written.filter((c) => c === 'HSET')).toHaveLength(3) // 1302 pairs: 500 + 500 + 302
    expect(written.filter((c) => c === 'HDEL')).toHaveLength(2) // 1100 fields: 1000 + 100
    expect((await backend.load(id))!.data).toEqual(after)
  })
})
