import { createServer, type RestSessionsServerOptions } from './server.ts'

/** What `startFromEnv` reads, with the original's variable names. */
export interface RestSessionsEnv {
  RS_PORT?: string
  RS_HOST?: string
  RS_REDISHOST?: string
  RS_REDISPORT?: string
  RS_NAMESPACE?: string
  RS_LOGLEVEL?: string
  /** `1` or `true`: strict compatibility mode (behave as the original 2.0.1 server). */
  RS_STRICT?: string
  [name: string]: string | undefined
}

/** The listen address and server options the environment describes. */
export function optionsFromEnv(env: RestSessionsEnv): {
  port: number
  host: string
  server: RestSessionsServerOptions
} {
  const port = Number(env.RS_PORT || 3000)
  const redisPort = Number(env.RS_REDISPORT || 6379)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`RS_PORT must be a port number, not "${env.RS_PORT}"`)
  if (!Number.isInteger(redisPort) || redisPort < 1 || redisPort > 65535) {
    throw new RangeError(`RS_REDISPORT must be a port number, not "${env.RS_REDISPORT}"`)
  }
  return {
    port,
    host: env.RS_HOST || '127.0.0.1',
    server: {
      redisHost: env.RS_REDISHOST || '127.0.0.1',
      redisPort,
      namespace: env.RS_NAMESPACE || 'rs',
      logLevel: env.RS_LOGLEVEL || 'dev',
      strict: env.RS_STRICT === '1' || env.RS_STRICT?.toLowerCase() === 'true',
    },
  }
}

/** Starts a server from the environment and closes it gracefully on SIGINT / SIGTERM. */
export async function startFromEnv(env: RestSessionsEnv = process.env): Promise<void> {
  const { port, host, server: options } = optionsFromEnv(env)
  const server = await createServer(options)
  const url = await server.listen({ port, host })
  console.log(
    `rest-sessions-server listening on ${url} (Redis ${options.redisHost}:${options.redisPort}, namespace "${options.namespace}"${options.strict ? ', strict compatibility mode' : ''})`,
  )
  const stop = (signal: string) => {
    console.log(`rest-sessions-server: ${signal}, closing`)
    server.close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(error)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
