export { LazyUser } from '@sessionbridge/core'
export { loggedInOrBasicAuth, permissionOrBasicAuth, realtimeTicket, ticketRoute } from './guards.ts'
export {
  type ExpressSessionData,
  type ExpressSessionOptions,
  type ExpressSessionUser,
  type SessionDataMap,
  type SessionUserMap,
  sessionErrorHandler,
  sessionMiddleware,
  stateOf,
} from './middleware.ts'
