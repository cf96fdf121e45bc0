export {
  type ConnectSessionAdopterOptions,
  expressSessionAdopter,
  fastifySessionAdopter,
} from './connect-session.ts'
export { type KoaSessionAdopterOptions, koaSessionAdopter } from './koa-session.ts'
export {
  type MemcachedLike,
  memcachedForeignStore,
  type RedisCommandsLike,
  redisForeignStore,
  type SqlQueryableLike,
  sqlForeignStore,
} from './stores.ts'
export {
  type AdoptedSession,
  defaultUserIdOf,
  type ForeignStore,
  type SessionAdopter,
  type UserIdOf,
} from './types.ts'
