// Child process: starts one framework server with the given layers (a JSON list of mounts, each a
// layer under a path prefix; one at the root as a rule) and prints `READY <port>`. Over IPC it
// answers `stats` with the backend calls counted so far and the CPU time this process has used
// (user + system, and user alone, microseconds), and `stop` by closing and exiting.
import { requireBuiltPackages } from '../built-packages.ts'
import { startApp } from './apps.ts'
import type { CallCounter } from './counting.ts'
import type { Framework, Mount } from './layers.ts'

requireBuiltPackages('compare/server')
const [framework, mountsJson] = process.argv.slice(2)
const counter: CallCounter = { calls: 0 }
const server = await startApp(
  framework as Framework,
  JSON.parse(mountsJson ?? '[{"prefix":"","layer":{"kind":"bare"}}]') as Mount[],
  counter,
)

process.on('message', async (message: unknown) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage()
    process.send?.({ calls: counter.calls, cpuMicros: cpu.user + cpu.system, userMicros: cpu.user })
  } else if (message === 'stop') {
    await server.close()
    process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))
process.stdout.write(`READY ${server.port}\n`)
