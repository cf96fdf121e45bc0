import { SessionBackendError, SessionConfigError } from '@sessionbridge/core'
import { Command, CommanderError, Option } from 'commander'
import { clearExpiredCommand } from './commands/clear-expired.ts'
import { inspectCommand } from './commands/inspect.ts'
import { migrateCommand } from './commands/migrate.ts'
import { revokeCommand } from './commands/revoke.ts'
import { statsCommand } from './commands/stats.ts'
import { type CliFlags, describeConfig, resolveConfig, STORES } from './config.ts'
import { CliError, EXIT } from './errors.ts'
import { type OpenStore, openStore } from './open-store.ts'
import type { CliIo } from './progress.ts'

/** What `runCli` needs from its surroundings: the environment and where to write. */
export interface RunCliOptions {
  env?: Record<string, string | undefined>
  io?: CliIo
}

const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
}

/**
 * Runs `sessionbridge <command>` with `argv` (without `node` and the script) and returns the exit
 * code (see `EXIT`). Never throws: every failure is one line on stderr and a code.
 */
export async function runCli(argv: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const io = options.io ?? processIo
  const env = options.env ?? process.env
  let code: number = EXIT.ok
  const program = buildProgram(io, env, (result) => {
    code = result
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return code
  } catch (error) {
    return reportError(io, error)
  }
}

function buildProgram(
  io: CliIo,
  env: Record<string, string | undefined>,
  setCode: (code: number) => void,
): Command {
  const program = new Command('sessionbridge')
    .description('Operate sessionbridge session stores.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addOption(new Option('--backend <kind>', 'the session store (SESSION_BACKEND)').choices(STORES))
    .option('--database-url <url>', 'sqlite:path, postgres://... or mysql://... (DATABASE_URL)')
    .addOption(
      new Option('--layout <layout>', 'SQL table layout (SESSION_LAYOUT)').choices(['native', 'django']),
    )
    .option('--table <name>', 'SQL table (SESSION_TABLE)')
    .option('--user-table <name>', "the django layout's user table, for revoke (SESSION_USER_TABLE)")
    .option('--redis-url <url>', 'Redis URL (REDIS_URL)')
    .option('--memcached-servers <list>', 'host:port,... (MEMCACHED_SERVERS)')
    .option('--session-url <url>', 'rest-sessions service URL (SESSION_URL)')
    .option('--session-app <name>', 'rest-sessions app (SESSION_APP)')
    .option('--prefix <prefix>', 'Redis/memcached key prefix (SESSION_PREFIX)')
    .option('--secret-key <key>', "Django's SECRET_KEY, for the django layout (SECRET_KEY)")

  const withStore =
    <A extends unknown[]>(run: (store: OpenStore, ...args: A) => Promise<number>) =>
    async (...args: A) => {
      const config = resolveConfig(program.opts<CliFlags>(), env)
      const store = await openStore(config).catch((error: unknown) => {
        throw new CliError(`cannot open ${describeConfig(config)}: ${messageOf(error)}`, EXIT.failure, {
          cause: error,
        })
      })
      try {
        setCode(await run(store, ...args))
      } finally {
        await store.close().catch(() => {})
      }
    }

  program
    .command('migrate')
    .description('create the native SQL schema (idempotent)')
    .action(withStore((store) => migrateCommand(store, io)))
  program
    .command('clear-expired')
    .description('delete expired sessions, in batches')
    .action(withStore((store) => clearExpiredCommand(store, io)))
  program
    .command('revoke')
    .description('log a user out everywhere')
    .requiredOption('--user <id>', 'the user id')
    .action(withStore((store, opts: { user: string }) => revokeCommand(store, io, opts.user)))
  program
    .command('inspect')
    .description('show one session: data (secrets redacted), expiry, user')
    .argument('<id>', 'the session id (without a cookie signature)')
    .option('--json', 'print JSON')
    .action(
      withStore((store, id: string, opts: { json?: boolean }) =>
        inspectCommand(store, io, id, Boolean(opts.json)),
      ),
    )
  program
    .command('stats')
    .description('live sessions in the store and per user')
    .option('--user <id>', "only this user's count")
    .option('--top <n>', 'users listed', (value) => Number.parseInt(value, 10), 10)
    .option('--json', 'print JSON')
    .action(
      withStore((store, opts: { user?: string; top: number; json?: boolean }) =>
        statsCommand(store, io, {
          ...(opts.user !== undefined ? { user: opts.user } : {}),
          top: opts.top,
          json: Boolean(opts.json),
        }),
      ),
    )
  return program
}

function reportError(io: CliIo, error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with code 0; commander has printed what it had to.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage
  }
  if (error instanceof CliError) {
    io.err(`sessionbridge: ${error.message}\n`)
    return error.exitCode
  }
  if (error instanceof SessionConfigError) {
    io.err(`sessionbridge: ${error.message}\n`)
    return EXIT.usage
  }
  if (error instanceof SessionBackendError) {
    io.err(`sessionbridge: ${error.message}${error.cause ? ` (${messageOf(error.cause)})` : ''}\n`)
    return EXIT.failure
  }
  io.err(`sessionbridge: ${messageOf(error)}\n`)
  return EXIT.failure
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0])
  return error instanceof Error ? error.message || error.name : String(error)
}
