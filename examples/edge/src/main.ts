// One command (`pnpm --filter @sessionbridge/example-edge start`): a rest-sessions service on Redis,
// the shared-login Node apps on it, and the edge Worker in workerd, all on 127.0.0.1.
import { createServer } from '@sessionbridge/rest-sessions-server'
import { loadConfig } from '../../shared-login/src/config.ts'
import { startExample } from '../../shared-login/src/launcher.ts'
import { startEdge } from './serve.ts'

const env = process.env
const redis = new URL(env.REDIS_URL || 'redis://127.0.0.1:6379')
// SESSION_URL set: use that service; unset: run one here on Redis.
const service = env.SESSION_URL
  ? null
  : await createServer({
      redisHost: redis.hostname,
      redisPort: Number(redis.port || 6379),
      namespace: 'sb-example-edge',
      logLevel: 'warn',
    })
const sessionUrl =
  env.SESSION_URL || (await service!.listen({ port: Number(env.SESSION_PORT || 3006), host: '127.0.0.1' }))
const config = loadConfig({ ...env, SESSION_BACKEND: 'rest-sessions', SESSION_URL: sessionUrl })
const example = await startExample(config)
const edge = await startEdge({
  sessionUrl,
  sessionApp: config.sessionApp,
  cookieName: config.cookieName,
  port: Number(env.EDGE_PORT || 3005),
})

console.log(`sessionbridge at the edge: sessions in rest-sessions (${sessionUrl}, app ${config.sessionApp})`)
for (const [name, url] of example.apps) console.log(`  ${name.padEnd(8)} ${url}/`)
console.log(
  `  ${'Edge'.padEnd(8)} ${edge.url}/   (workerd; Worker bundle ${edge.bundle.bytes} B, ${edge.bundle.gzipBytes} B gzipped)`,
)
console.log('Log in on Fastify, Koa or Hono as demo / demo-password, then open the edge.')

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await edge.stop()
  await example.stop()
  await service?.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
