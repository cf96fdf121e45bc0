export { LazyUser } from '@sessionbridge/core'
export type { HonoSessionOptions } from './binding.ts'
export { type FetchHandler, sessionFetch } from './fetch.ts'
export { loggedInOrBasicAuth, permissionOrBasicAuth, realtimeTicket, ticketRoute } from './guards.ts'
export type { SessionAccess } from './holder.ts'
export {
  type SessionEnv,
  type SessionVariables,
  sessionMiddleware,
  sessionOf,
  stateOf,
} from './middleware.ts'
