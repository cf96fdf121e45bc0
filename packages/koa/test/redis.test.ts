// The shared HTTP behaviour suite on a real store: Koa over Redis (node-redis), keys under a
// prefix of this run, removed afterwards.
import { randomString } from '@sessionbridge/core/adapter'
import { testFrameworkBehaviour } from '@sessionbridge/core/testing/http'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { createClient, type RedisClientType } from 'redis'
import { afterAll, beforeAll, describe } from 'vitest'
import { injected } from './app.ts'

const prefix = `sbt:koa-http:${randomString(10, 'abcdefghijklmnopqrstuvwxyz0123456789')}:`
let client: RedisClientType

describe.skipIf(!(await serviceAvailable('redis')))('koa on Redis', () => {
  beforeAll(async () => {
    client = createClient({
      url: SERVICE_URLS.redis,
      socket: { reconnectStrategy: false, connectTimeout: 2000 },
    })
    client.on('error', () => {})
    await client.connect()
  })
  afterAll(async () => {
    const keys: string[] = []
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch)
    if (keys.length > 0) await client.del(keys)
    await client.quit()
  })

  testFrameworkBehaviour({
    name: 'koa (app.callback) on redis',
    makeApp: injected,
    backend: ({ now }) => redisBackend({ client: nodeRedisAdapter(client), prefix, now }),
  })
})
