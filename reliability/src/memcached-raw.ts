import { connect, type Socket } from 'node:net'

/**
 * A bare memcached text-protocol writer, to put arbitrary bytes under a key: what a foreign or
 * broken writer could leave for the backend to read. Commands may be pipelined.
 */
export async function memcachedRaw(address: string): Promise<{
  set(key: string, value: Uint8Array, exptime?: number): Promise<void>
  close(): void
}> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ]
  const socket: Socket = connect({ host, port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  // Replies come back in command order: a FIFO of waiters lets commands be pipelined.
  const pending: ((line: string) => void)[] = []
  let buffer = ''
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1')
    let end = buffer.indexOf('\r\n')
    while (end >= 0 && pending.length > 0) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      pending.shift()!(line)
      end = buffer.indexOf('\r\n')
    }
  })
  return {
    async set(key, value, exptime = 60) {
      const reply = new Promise<string>((resolve) => {
        pending.push(resolve)
      })
      socket.write(
        Buffer.concat([
          Buffer.from(`set ${key} 0 ${exptime} ${value.length}\r\n`),
          value,
          Buffer.from('\r\n'),
        ]),
      )
      const line = await reply
      if (line !== 'STORED') throw new Error(`memcached answered ${line}`)
    },
    close: () => socket.destroy(),
  }
}
