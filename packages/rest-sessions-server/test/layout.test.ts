import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dropNamespace, freshNamespace, manualClock, redisClient, startServer } from './helpers.ts'

describe.skipIf(!(await serviceAvailable('redis')))('Redis layout (reference §8)', () => {
  const namespace = freshNamespace()
  const clock = manualClock(Date.UTC(2030, 0, 1))
  const now = Math.floor(clock.now() / 1000)
  let ctx: Awaited<ReturnType<typeof startServer>>
  let redis: Awaited<ReturnType<typeof redisClient>>

  beforeAll(async () => {
    ctx = await startServer({ namespace, now: clock.now })
    redis = await redisClient()
  })
  afterAll(async () => {
    await ctx?.server.close()
    await dropNamespace(redis, namespace)
    await redis?.close()
  })

  it('writes the keys the original wrote', async () => {
    const created = await ctx.call('PUT', '/layout/create/user1?ip=10.0.0.1&ttl=3600', {
      json: { a: 'x', n: 2 },
    })
    const { token } = created.json as { token: string }
    expect(await redis.hGetAll(`${namespace}:layout:${token}`)).toEqual({
      id: 'user1',
      r: '1',
      w: '1',
      ip: '10.0.0.1',
      la: String(now),
      ttl: '3600',
      d: '{"a":"x","n":2}',
    })
    expect(await redis.ttl(`${namespace}:layout:${token}`)).toBe(-1)
    expect(await redis.sMembers(`${namespace}:layout:us:user1`)).toEqual([token])
    expect(await redis.zScore(`${namespace}:layout:_sessions`, `${token}:user1`)).toBe(now)
    expect(await redis.zScore(`${namespace}:layout:_users`, 'user1')).toBe(now)
    expect(await redis.zScore(`${namespace}:SESSIONS`, `layout:${token}:user1`)).toBe(now + 3600)
  })

  it('serves sessions the original wrote, no_resave included', async () => {
    const token = 'Legacy0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQZmwrnh4qh'.slice(0, 64)
    const key = `${namespace}:legacy:${token}`
    await redis.hSet(key, {
      id: 'old',
      r: '7',
      w: '3',
      ip: '1.2.3.4',
      la: String(now - 100),
      ttl: '1000',
      d: '{"k":"v"}',
    })
    await redis.sAdd(`${namespace}:legacy:us:old`, token)
    await redis.zAdd(`${namespace}:legacy:_sessions`, { score: now - 100, value: `${token}:old` })
    const got = await ctx.call('GET', `/legacy/get/${token}`)
    expect(got.text).toBe('{"id":"old","r":7,"w":3,"ttl":1000,"idle":100,"ip":"1.2.3.4","d":{"k":"v"}}')
    expect(await redis.hGet(key, 'la')).toBe(String(now))
    expect(await redis.zScore(`${namespace}:SESSIONS`, `legacy:${token}:old`)).toBe(now + 1000)

    const fixed = `${token.slice(0, 63)}X`
    await redis.hSet(`${namespace}:legacy:${fixed}`, {
      id: 'old',
      r: '1',
      w: '1',
      ip: 'x',
      la: String(now - 40),
      ttl: '100',
      no_resave: '1',
    })
    expect((await ctx.call('GET', `/legacy/get/${fixed}`)).json).toMatchObject({ ttl: 60, idle: 40 })
    expect(await redis.hGet(`${namespace}:legacy:${fixed}`, 'ttl')).toBe('60')
  })

  it('survives a stored d that is not JSON: answers without it, set replaces it', async () => {
    const created = await ctx.call('PUT', '/broken/create/u?ip=x', { json: { a: 1 } })
    const { token } = created.json as { token: string }
    await redis.hSet(`${namespace}:broken:${token}`, 'd', '{"a":1,')
    const got = await ctx.call('GET', `/broken/get/${token}`)
    expect(got.status).toBe(200)
    expect(got.json).not.toHaveProperty('d')
    expect((await ctx.call('POST', `/broken/set/${token}`, { json: { b: 2 } })).json).toMatchObject({
      d: { b: 2 },
    })
  })
})
