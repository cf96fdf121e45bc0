import { SessionBackendError } from '@sessionbridge/core'
import { testAttemptStore } from '@sessionbridge/core/testing'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { type RedisCommands, redisAttemptStore } from '../src/index.ts'
import { ADAPTERS, deleteKeys, testPrefix } from './helpers.ts'

const up = await serviceAvailable('redis')

for (const adapter of ADAPTERS) {
  describe.skipIf(!up)(`redisAttemptStore over ${adapter.name}`, () => {
    const prefix = testPrefix(`attempts-${adapter.name}`)
    let connection: { commands: RedisCommands; close(): Promise<void> } | null = null
    const commands = async () => {
      connection ??= await adapter.open()
      return connection.commands
    }
    afterAll(async () => {
      if (!connection) return
      await deleteKeys(connection.commands, prefix)
      await connection.close()
    })

    testAttemptStore({
      name: `redis (${adapter.name})`,
      store: async () => redisAttemptStore({ client: await commands(), prefix }),
    })

    it('keeps each counter in one key under the prefix, expiring with the window', async () => {
      const client = await commands()
      const store = redisAttemptStore({ client, prefix })
      await store.hit('u:ttl-check', 30_000)
      const ttl = Number(await client.send(`${prefix}u:ttl-check`, ['PTTL', `${prefix}u:ttl-check`]))
      expect(ttl).toBeGreaterThan(25_000)
      expect(ttl).toBeLessThanOrEqual(30_000)
    })
  })
}

describe('redisAttemptStore failures', () => {
  it('wraps I/O errors as SessionBackendError (503)', async () => {
    const store = redisAttemptStore({
      client: { send: () => Promise.reject(new Error('ECONNREFUSED')) },
      prefix: 'x:',
    })
    await expect(store.hit('u:a', 1000)).rejects.toBeInstanceOf(SessionBackendError)
    await expect(store.reset('u:a')).rejects.toMatchObject({ status: 503 })
  })
})
