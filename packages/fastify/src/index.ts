export { LazyUser } from '@sessionbridge/core'
export {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  realtimeTicket,
  type SessionHook,
  ticketRoute,
} from './guards.ts'
export {
  type FastifySessionData,
  type FastifySessionOptions,
  type FastifySessionUser,
  type SessionDataMap,
  type SessionUserMap,
  sessionPlugin,
  sessionPlugin as default,
  stateOf,
} from './plugin.ts'
