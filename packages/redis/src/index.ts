export { type RedisAttemptStoreOptions, redisAttemptStore } from './attempts.ts'
export { type RedisBackendOptions, redisBackend } from './backend.ts'
export {
  type IoredisClientLike,
  ioredisAdapter,
  type NodeRedisClientLike,
  type NodeRedisClusterLike,
  nodeRedisAdapter,
  nodeRedisClusterAdapter,
  type RedisCommands,
} from './commands.ts'
export { type RedisTicketStoreOptions, redisTicketStore } from './tickets.ts'
