export { ProtocolError, RedisUnavailableError } from './errors.ts'
export { EXTENSIONS, EXTENSIONS_PATH } from './extensions.ts'
export { optionsFromEnv, type RestSessionsEnv, startFromEnv } from './main.ts'
export { createServer, type RestSessionsServer, type RestSessionsServerOptions } from './server.ts'
export {
  type RedisCommandSender,
  type SessionStore,
  type SessionStoreOptions,
  type SessionView,
  sessionStore,
  type UpdateOutcome,
} from './store.ts'
export { createToken } from './token.ts'
