export { LazyUser } from '@sessionbridge/core'
export { loggedInOrBasicAuth, permissionOrBasicAuth, realtimeTicket, ticketRoute } from './guards.ts'
export {
  type HonoSessionOptions,
  type SessionEnv,
  type SessionVariables,
  sessionMiddleware,
  stateOf,
} from './middleware.ts'
