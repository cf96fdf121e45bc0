export { LazyUser } from '@sessionbridge/core'
export { loggedInOrBasicAuth, permissionOrBasicAuth, realtimeTicket, ticketRoute } from './guards.ts'
export {
  authOf,
  type KoaSessionData,
  type KoaSessionOptions,
  type KoaSessionUser,
  type SessionDataMap,
  type SessionUserMap,
  sessionMiddleware,
} from './middleware.ts'
