/**
 * `pnpm start`: the Fastify, Koa, Hono and Express apps (and Django, where it is installed) sharing one
 * login. Configuration comes from the environment; see README.md.
 */
import { SessionConfigError } from '@sessionbridge/core'
import { loadConfig } from './config.ts'
import { DEMO_USER } from './database.ts'
import { startExample } from './launcher.ts'

async function main(): Promise<void> {
  const config = loadConfig()
  if (config.secretKeyIsDefault) {
    console.warn(
      'WARNING: SECRET_KEY is not set; using the development default. Set SECRET_KEY outside a laptop.',
    )
  }
  const example = await startExample(config)
  console.log(`sessionbridge shared login: sessions in ${example.stack.label}`)
  console.log(`users: Django's auth_user in the database (${example.stack.database.origin})`)
  for (const [name, url] of example.apps) console.log(`  ${name.padEnd(8)} ${url}/`)
  if (example.djangoSkipped) console.log(`  Django   not started: ${example.djangoSkipped}`)
  console.log(`Log in on any of them as ${DEMO_USER.username} / ${DEMO_USER.password}, then open the others.`)

  let stopping = false
  /** Stops every app and Django, then exits; a stop that hangs is cut short after 10 s. */
  const shutdown = (why: string, code: number) => {
    if (stopping) return
    stopping = true
    console.log(`\n${why}: shutting down`)
    setTimeout(() => process.exit(code || 1), 10_000).unref()
    example.stop().then(
      () => process.exit(code),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => shutdown(signal, 0))
  // An error nothing caught: the apps may be in any state, so stop everything rather than limp on.
  // (Children go even if this never finishes: see the exit hook in django.ts.)
  const crash = (kind: string) => (error: unknown) => {
    console.error(`${kind}:`, error)
    shutdown(kind, 1)
  }
  process.on('uncaughtException', crash('uncaught exception'))
  process.on('unhandledRejection', crash('unhandled rejection'))
}

main().catch((error: unknown) => {
  console.error(error instanceof SessionConfigError ? error.message : error)
  process.exit(1)
})
