import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import {
  createSessionManager,
  type IdFormat,
  SessionBackendError,
  SessionTimeoutError,
} from '@sessionbridge/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, memcachedBackend } from '../src/index.ts'

/**
 * A hand-written stand-in for memcached, for what a real server cannot do on demand: answer
 * garbage, answer out of order, hang. It answers `mg` lines; `reply` decides the answer per key.
 */
function fakeServer(reply: (key: string, opaque: string) => string | null) {
  const received: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buffer = ''
    socket.on('data', (chunk) => {
      received.push(chunk.toString('latin1'))
      buffer += chunk.toString('latin1')
      let end = buffer.indexOf('\r\n')
      while (end >= 0) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const tokens = line.split(' ')
        const opaque = tokens.find((t) => t.startsWith('O'))?.slice(1) ?? ''
        const answer = tokens[0] === 'mn' ? 'MN\r\n' : reply(tokens[1] ?? '', opaque)
        if (answer !== null) socket.write(answer)
        end = buffer.indexOf('\r\n')
      }
    })
  })
  return {
    received,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return `127.0.0.1:${(server.address() as AddressInfo).port}`
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe('malformed and missing replies (fake server)', () => {
  const server = fakeServer((key, opaque) => {
    if (key === 'garbage') return 'HELLO WORLD\r\n'
    if (key === 'wrong-order') return `EN O${opaque}zz\r\n`
    if (key === 'short-value') return `VA 100 O${opaque}\r\nabc\r\n`
    if (key === 'hang') return null
    return `EN O${opaque}\r\n`
  })
  let address = ''
  beforeAll(async () => {
    address = await server.listen()
  })
  afterAll(() => server.close())

  it('a garbage reply fails the requests in flight on that connection, and the next request works', async () => {
    const client = createMemcachedClient({ servers: [address], maxConnections: 1, failureThreshold: 100 })
    const [before, bad, behind] = await Promise.allSettled([
      client.get('ok-1'),
      client.get('garbage'),
      client.get('ok-2'),
    ])
    expect(before).toEqual({ status: 'fulfilled', value: null })
    expect(bad.status).toBe('rejected')
    const reason = (bad as PromiseRejectedResult).reason
    expect(reason).toBeInstanceOf(SessionBackendError)
    expect(String(reason.message)).toMatch(/malformed reply/)
    expect(behind.status).toBe('rejected') // same connection, after the garbage: affected
    expect(await client.get('ok-3')).toBeNull() // a new connection
    await client.close()
  })

  it('an answer with another request opaque token is caught as a desynchronised stream', async () => {
    const client = createMemcachedClient({ servers: [address], failureThreshold: 100 })
    await expect(client.get('wrong-order')).rejects.toThrow(/out of order/)
    await client.close()
  })

  it('a value shorter than announced, then silence, ends in a timeout, not a hang', async () => {
    const client = createMemcachedClient({ servers: [address], timeout: 200, failureThreshold: 100 })
    await expect(client.get('short-value')).rejects.toBeInstanceOf(SessionTimeoutError)
    expect(await client.get('ok')).toBeNull()
    await client.close()
  })

  it('a server that never answers gives SessionTimeoutError; after the threshold it is marked dead', async () => {
    const client = createMemcachedClient({
      servers: [address],
      timeout: 150,
      failureThreshold: 2,
      retryDelay: 60_000,
    })
    await expect(client.get('hang')).rejects.toBeInstanceOf(SessionTimeoutError)
    await expect(client.get('hang')).rejects.toBeInstanceOf(SessionTimeoutError)
    await expect(client.get('ok')).rejects.toThrow(/marked dead/)
    await client.close()
  })

  it('the backend turns these into SessionBackendError, never a crash', async () => {
    const anyId: IdFormat = { generate: () => 'garbage', validate: () => true }
    const backend = memcachedBackend({
      servers: [address],
      prefix: '',
      idFormat: anyId,
      failureThreshold: 100,
    })
    await expect(backend.load('garbage')).rejects.toBeInstanceOf(SessionBackendError)
    expect(await backend.load('fine')).toBeNull()
    await backend.close?.()
  })
})

describe('protocol injection never reaches the wire', () => {
  const server = fakeServer((_key, opaque) => `EN O${opaque}\r\n`)
  let address = ''
  beforeAll(async () => {
    address = await server.listen()
  })
  afterAll(() => server.close())

  it('with an id format that accepts anything, hostile ids still write nothing but valid keys', async () => {
    const anything: IdFormat = { generate: () => 'x'.repeat(32), validate: () => true }
    const backend = memcachedBackend({ servers: [address], idFormat: anything })
    const hostile = [
      'abc\r\nflush_all',
      'abc\nflush_all',
      'abc flush_all',
      'abc\r\nms sb:sess:victim 1 T0\r\nx',
      'abc\u0000\r\n',
      `${'a'.repeat(250)}`,
      'abc\u2028flush_all',
    ]
    for (const id of hostile) {
      expect(await backend.load(id)).toBeNull()
      expect(await backend.touch(id, Date.now() + 60_000)).toBe(false)
      expect(
        await backend.save(id, { set: { a: 1 }, deleted: [] }, { data: {}, expiresAt: 0, userId: null }),
      ).toBe(false)
      await backend.destroy(id)
    }
    const manager = createSessionManager({ backend })
    for (const cookie of [
      'sessionid=abc\r\nflush_all',
      'sessionid="abc flush_all"',
      'sessionid=abc%0d%0aflush_all',
    ]) {
      const session = await manager.open({ cookie })
      expect(await session.get('x')).toBeUndefined()
      await session.commit()
    }
    expect(await backend.load('legit-id')).toBeNull() // one valid key does reach the server
    await backend.close?.()
    const wire = server.received.join('')
    expect(wire).toContain('mg sb:sess:legit-id')
    // No command of the attacker's: a percent-encoded cookie (`abc%0d%0aflush_all`, kept as Django
    // keeps it) may reach the wire as the printable key it is, never as a line of its own.
    expect(wire).not.toMatch(/(^|\r\n)(flush_all|ms sb:sess:victim)/)
    expect(wire).not.toMatch(/[\r\n]flush_all|\sflush_all/)
    for (const line of wire.split('\r\n').filter(Boolean))
      expect(line).toMatch(/^(mg|md|ms|mn)( [\x21-\x7e]+)*$/)
  })

  it('a CAS token that is not 1 - 20 ASCII digits is refused before anything is sent', async () => {
    const client = createMemcachedClient({ servers: [address] })
    const before = server.received.join('').length
    for (const cas of [
      '',
      'x',
      '12a',
      '1 2',
      '1\r\nflush_all',
      '１２',
      '1'.repeat(21),
      '-1',
      '1.5',
      '/1',
      '1:',
    ]) {
      await expect(client.set('k', 'v', { exptime: 0, cas })).rejects.toBeInstanceOf(RangeError)
      await expect(client.delete('k', { cas })).rejects.toBeInstanceOf(RangeError)
    }
    expect(server.received.join('').length).toBe(before)
    // 1 and 20 digits go out (the fake server answers EN: not a store reply, so the client throws).
    await expect(client.set('k', 'v', { exptime: 0, cas: '0' })).rejects.not.toBeInstanceOf(RangeError)
    await expect(client.delete('k', { cas: '9'.repeat(20) })).rejects.not.toBeInstanceOf(RangeError)
    expect(server.received.join('')).toContain(`md k C${'9'.repeat(20)}`)
    await client.close()
  })
})
