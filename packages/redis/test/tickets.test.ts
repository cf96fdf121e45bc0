import {
  DEFAULT_TICKET_TTL_MS,
  SessionBackendError,
  SessionConfigError,
  SessionDataError,
  type TicketStore,
  verifyTicket,
} from '@sessionbridge/core'
import { randomToken } from '@sessionbridge/core/adapter'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type RedisCommands, redisTicketStore } from '../src/index.ts'
import { ADAPTERS, cuttableProxy, deleteKeys, sleep, testPrefix } from './helpers.ts'

const up = await serviceAvailable('redis')
const alice = { userId: '42', username: 'alice', room: 'lobby' }

for (const adapter of ADAPTERS) {
  describe.skipIf(!up)(`redisTicketStore over ${adapter.name}`, () => {
    const prefix = testPrefix(`tickets-${adapter.name}`)
    const connections: { commands: RedisCommands; close(): Promise<void> }[] = []
    let commands: RedisCommands
    let store: TicketStore
    beforeAll(async () => {
      // Several connections of both libraries, so racing consumers really arrive from different sockets.
      for (const a of [...ADAPTERS, ...ADAPTERS]) connections.push(await a.open())
      commands = connections[ADAPTERS.indexOf(adapter)]!.commands
      store = redisTicketStore({ client: commands, prefix })
    })
    afterAll(async () => {
      await deleteKeys(commands, prefix)
      for (const c of connections) await c.close()
    })

    it('issues a 192-bit base64url ticket stored with NX and a TTL, and returns its payload once', async () => {
      const ticket = await store.issue(alice, DEFAULT_TICKET_TTL_MS)
      expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/)
      const ttl = Number(await commands.send(`${prefix}${ticket}`, ['PTTL', `${prefix}${ticket}`]))
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(DEFAULT_TICKET_TTL_MS)
      expect(await verifyTicket(store, ticket)).toEqual(alice)
      expect(await verifyTicket(store, ticket)).toBeNull() // replayed
      expect(Number(await commands.send(`${prefix}${ticket}`, ['EXISTS', `${prefix}${ticket}`]))).toBe(0)
    })

    it("revokeUser deletes the user's unconsumed tickets and no one else's", async () => {
      const mine = [await store.issue(alice, 10_000), await store.issue(alice, 10_000)]
      const other = await store.issue({ userId: '43', username: 'bob' }, 10_000)
      await store.revokeUser!('42')
      for (const ticket of mine) expect(await verifyTicket(store, ticket)).toBeNull()
      expect(await verifyTicket(store, other)).toMatchObject({ username: 'bob' })
      const index = `${prefix}user:42`
      expect(Number(await commands.send(index, ['EXISTS', index]))).toBe(0)
    })

    it('never issues the same ticket twice', async () => {
      const tickets = await Promise.all(Array.from({ length: 500 }, () => store.issue(alice, 5000)))
      expect(new Set(tickets).size).toBe(500)
    })

    it('1,000 concurrent consumers on four connections race for one ticket: exactly one wins', async () => {
      for (let round = 0; round < 3; round++) {
        const ticket = await store.issue({ userId: '7', username: `racer-${round}` }, 10_000)
        const stores = connections.map((c) => redisTicketStore({ client: c.commands, prefix }))
        const results = await Promise.all(
          Array.from({ length: 1000 }, (_, i) => verifyTicket(stores[i % stores.length]!, ticket)),
        )
        const winners = results.filter((r) => r !== null)
        expect(winners).toEqual([{ userId: '7', username: `racer-${round}` }])
      }
    })

    it('honours the expiry', async () => {
      const ticket = await store.issue(alice, 150)
      await sleep(300)
      expect(await verifyTicket(store, ticket)).toBeNull()
    })

    it('refuses forged tickets, and malformed ones without asking Redis', async () => {
      let sent = 0
      const counting = redisTicketStore({
        client: {
          send: (key, args) => {
            sent++
            return commands.send(key, args)
          },
        },
        prefix,
      })
      expect(await counting.consume(randomToken(24))).toBeNull() // well-formed, never issued
      expect(sent).toBe(1)
      const real = await store.issue(alice, 10_000)
      const tampered = `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`
      for (const bad of [
        '',
        'x',
        real.slice(1),
        `${real}=`,
        `${real.slice(0, 31)}*`,
        '*',
        `${prefix}*`,
        'a'.repeat(1e6),
      ]) {
        expect(await counting.consume(bad)).toBeNull()
      }
      expect(await counting.consume(null as never)).toBeNull()
      expect(sent).toBe(1)
      expect(await verifyTicket(store, tampered)).toBeNull()
      expect(await verifyTicket(store, real)).toEqual(alice) // the forgeries did not burn the real one
    })

    it('refuses a stored value that is not a ticket payload, with a warning', async () => {
      const warn = vi.fn()
      const quiet = redisTicketStore({ client: commands, prefix, logger: { warn } })
      for (const value of ['{not json', '[1]', '{"userId":1,"username":"x"}']) {
        const ticket = randomToken(24)
        await commands.send(`${prefix}${ticket}`, ['SET', `${prefix}${ticket}`, value, 'PX', '10000'])
        expect(await quiet.consume(ticket)).toBeNull()
      }
      expect(warn).toHaveBeenCalledTimes(3)
    })

    it('rejects a payload or ttl it cannot store', async () => {
      await expect(store.issue({ userId: 1 } as never, 1000)).rejects.toBeInstanceOf(SessionDataError)
      await expect(store.issue(alice, 0)).rejects.toBeInstanceOf(SessionDataError)
      await expect(store.issue(alice, 1.5)).rejects.toBeInstanceOf(SessionDataError)
    })

    it('store down: issue, consume and verifyTicket throw SessionBackendError with cause', async () => {
      const proxy = await cuttableProxy()
      const opened = await adapter.open(proxy.url)
      try {
        const down = redisTicketStore({ client: opened.commands, prefix })
        const ticket = await down.issue(alice, 10_000)
        await proxy.cut()
        for (const call of [
          () => down.issue(alice, 1000),
          () => down.consume(ticket),
          () => verifyTicket(down, ticket),
        ]) {
          const error = await call().then(
            () => null,
            (e: unknown) => e,
          )
          expect(error).toBeInstanceOf(SessionBackendError)
          expect((error as SessionBackendError).cause).toBeDefined()
        }
      } finally {
        await opened.close()
      }
    })
  })
}

describe('redisTicketStore configuration', () => {
  it('fails at startup, naming the option', () => {
    expect(() => redisTicketStore({} as never)).toThrow(SessionConfigError)
    expect(() => redisTicketStore({} as never)).toThrow(/missing option "client"/)
    expect(() => redisTicketStore({ client: { call() {} } } as never)).toThrow(/ioredisAdapter/)
  })
})
