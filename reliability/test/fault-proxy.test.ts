import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from '../src/fault-proxy.ts'

// A real echo server stands in for a backend: the proxy is tested on its own before it is trusted.
let echo: Server
let proxy: FaultProxy

type Outcome = { data: string } | { error: string } | { silent: true }

/** Sends `text` through the proxy and reports the echo, the socket error, or silence after `waitMs`. */
function exchange(port: number, text: string, waitMs = 300): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port })
    let received = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(received ? { data: received } : { silent: true })
    }, waitMs)
    socket.on('data', (chunk) => {
      received += chunk.toString()
      if (received.length >= text.length) {
        clearTimeout(timer)
        socket.destroy()
        resolve({ data: received })
      }
    })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve({ error: error.code ?? error.message })
    })
    socket.on('connect', () => socket.write(text))
  })
}

beforeAll(async () => {
  echo = createServer((socket) => {
    socket.on('error', () => {})
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
  proxy = await createFaultProxy({ target: `127.0.0.1:${(echo.address() as AddressInfo).port}` })
})

afterAll(async () => {
  await proxy.close()
  await new Promise((resolve) => echo.close(resolve))
})

describe('fault proxy', () => {
  it('passes traffic both ways', async () => {
    proxy.pass()
    expect(await exchange(proxy.port, 'hello')).toEqual({ data: 'hello' })
  })

  it('delays every chunk but still delivers them in order', async () => {
    proxy.delay(150)
    // 100 ms is less than one delayed hop: nothing may have come back yet.
    expect(await exchange(proxy.port, 'slow', 100)).toEqual({ silent: true })
    expect(await exchange(proxy.port, 'slow', 2000)).toEqual({ data: 'slow' })
    proxy.delay(0)
  })

  it('black-holes: accepts, answers nothing, then delivers the held bytes once it passes again', async () => {
    proxy.blackhole()
    expect(await exchange(proxy.port, 'anyone?')).toEqual({ silent: true })
    const socket = connect({ host: '127.0.0.1', port: proxy.port })
    let received = ''
    socket.on('data', (chunk) => {
      received += chunk.toString()
    })
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('held')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(received).toBe('')
    const echoed = new Promise((resolve) => socket.once('data', resolve))
    proxy.pass()
    await echoed
    expect(received).toBe('held')
    socket.destroy()
  })

  it('resets connections', async () => {
    proxy.reset()
    expect(await exchange(proxy.port, 'x')).toEqual({ error: 'ECONNRESET' })
    proxy.pass()
  })

  it('stops (connection refused) and restarts on the same port', async () => {
    const port = proxy.port
    await proxy.stop()
    expect(await exchange(port, 'x')).toEqual({ error: 'ECONNREFUSED' })
    await proxy.start()
    expect(proxy.port).toBe(port)
    expect(await exchange(port, 'again')).toEqual({ data: 'again' })
  })
})
