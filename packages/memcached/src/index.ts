export type {
  DeleteResult,
  MemcachedClientAdapter,
  MemcachedItem,
  SetMode,
  SetOptions,
  StoreResult,
} from './adapter.ts'
export {
  type MemcachedAttemptStore,
  type MemcachedAttemptStoreOptions,
  memcachedAttemptStore,
} from './attempts.ts'
export { type MemcachedBackend, type MemcachedBackendOptions, memcachedBackend } from './backend.ts'
export {
  createMemcachedClient,
  type MemcachedClient,
  type MemcachedClientOptions,
  type MemcachedServer,
} from './client.ts'
export { KetamaRing, ketamaHash, type RingServer } from './ketama.ts'
export { exptimeFor, isValidKey, MAX_KEY_BYTES } from './keys.ts'
export {
  type MemcachedTicketStore,
  type MemcachedTicketStoreOptions,
  memcachedTicketStore,
} from './tickets.ts'
