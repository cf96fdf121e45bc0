import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'

/** A memcached process this suite started on its own port. */
export interface SpawnedMemcached {
  readonly port: number
  readonly address: string
  /** Starts (or restarts) the process and waits until it accepts connections. */
  start(): Promise<void>
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

/**
 * Spawns Debian's memcached on loopback (`-U 0`: no UDP). A failure to start throws, so a broken
 * machine fails the suite instead of skipping it.
 */
export function memcachedProcess(port: number): SpawnedMemcached {
  let child: ChildProcess | null = null
  return {
    port,
    address: `127.0.0.1:${port}`,
    async start() {
      if (child) return
      if (await canConnect(port))
        throw new Error(`port ${port} is already taken; the test needs it for its own memcached`)
      const proc = spawn(
        'memcached',
        ['-u', 'root', '-l', '127.0.0.1', '-p', String(port), '-m', '32', '-U', '0'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      )
      let stderr = ''
      proc.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString()
      })
      let exited = false
      const spawnError = new Promise<never>((_, reject) => {
        proc.once('error', reject)
        proc.once('exit', (code) => {
          exited = true
          reject(new Error(`memcached on ${port} exited with ${code}: ${stderr}`))
        })
      })
      spawnError.catch(() => {})
      child = proc
      for (let i = 0; i < 100 && !exited; i++) {
        if (await Promise.race([canConnect(port), spawnError])) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await Promise.race([spawnError, Promise.reject(new Error(`memcached on ${port} did not start`))])
    },
    async stop() {
      const proc = child
      child = null
      if (!proc || proc.exitCode !== null) return
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve())
        proc.kill('SIGTERM')
      })
    },
  }
}

/** A prefix of keys no other suite or engineer uses. */
export const testPrefix = (what: string) => `sbt:mc:${randomBytes(6).toString('hex')}:${what}:`
