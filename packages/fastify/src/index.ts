export {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  realtimeTicket,
  type SessionHook,
  ticketRoute,
} from './guards.ts'
export {
  authOf,
  type FastifySessionData,
  type FastifySessionOptions,
  type FastifySessionUser,
  LazyUser,
  type SessionDataMap,
  type SessionUserMap,
  sessionPlugin,
  sessionPlugin as default,
} from './plugin.ts'
