export { ProtocolError, RedisUnavailableError } from './errors.ts'
export { optionsFromEnv, type RestSessionsEnv, startFromEnv } from './main.ts'
export { createServer, type RestSessionsServer, type RestSessionsServerOptions } from './server.ts'
export {
  type RedisCommandSender,
  type SessionStore,
  type SessionStoreOptions,
  type SessionView,
  sessionStore,
} from './store.ts'
export { createToken } from './token.ts'
