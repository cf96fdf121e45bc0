export { LazyUser } from '@sessionbridge/core'
export { loggedInOrBasicAuth, permissionOrBasicAuth, realtimeTicket, ticketRoute } from './guards.ts'
export {
  authOf,
  type HonoSessionOptions,
  type SessionEnv,
  type SessionVariables,
  sessionMiddleware,
} from './middleware.ts'
