export { LazyUser } from '@sessionbridge/core'
export { loggedInOrBasicAuth, permissionOrBasicAuth, realtimeTicket, ticketRoute } from './guards.ts'
export {
  type KoaSessionData,
  type KoaSessionOptions,
  type KoaSessionUser,
  type SessionDataMap,
  type SessionUserMap,
  sessionMiddleware,
  stateOf,
} from './middleware.ts'
export type { StateUser } from './state-user.ts'
