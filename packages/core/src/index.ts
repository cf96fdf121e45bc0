// For applications. Framework and backend authors: `@sessionbridge/core/adapter`.
export type { AdoptedSession, SessionAdopter } from './adoption.ts'
export { type MemoryAttemptStoreOptions, memoryAttemptStore } from './attempts-memory.ts'
export { getUser, LazyUser, login, logout } from './auth.ts'
export { type AuthenticateOptions, type AuthenticateResult, authenticate } from './authenticate.ts'
export type { BasicGuardOptions } from './basic-auth.ts'
export { jsonCodec, plainData } from './codec-json.ts'
export type { SessionCookieOptions } from './cookies.ts'
export {
  CSRF_SESSION_KEY,
  type CsrfCookieOptions,
  type CsrfDecision,
  type CsrfOptions,
  type CsrfProtection,
  type CsrfReason,
  type CsrfRequest,
  type CsrfStart,
  CsrfState,
  csrfProtection,
} from './csrf.ts'
export { type CsrfExtension, type CsrfExtensionOptions, csrfExtension } from './csrf-extension.ts'
export {
  type CsrfOriginCheck,
  type CsrfOriginOptions,
  type CsrfOriginReason,
  type CsrfOriginRequest,
  csrfOriginCheck,
  isSameDomain,
} from './csrf-origin.ts'
export {
  CSRF_ALLOWED_CHARS,
  CSRF_SECRET_LENGTH,
  CSRF_TOKEN_LENGTH,
  type DjangoCsrfTokenOptions,
  type DjangoCsrfTokens,
  djangoCsrfTokens,
  isCsrfTokenFormat,
} from './csrf-token.ts'
export {
  type BackendCallEvent,
  type CallOutcome,
  type CommitEvent,
  DIAGNOSTICS_CHANNELS,
} from './diagnostics.ts'
export {
  SessionBackendError,
  SessionConfigError,
  SessionConflictError,
  SessionDataError,
  SessionError,
  SessionTimeoutError,
} from './errors.ts'
export type { HttpsAnswer } from './https-answer.ts'
export {
  type AlphabetIdFormatOptions,
  alnum64IdFormat,
  alphabetIdFormat,
  defaultIdFormat,
  djangoIdFormat,
} from './ids.ts'
export { createSessionManager, type SessionManager, type SessionRequest } from './manager.ts'
export { type MemoryBackendOptions, memoryBackend } from './memory.ts'
export type { SessionLogger, SessionManagerOptions } from './options.ts'
export { type CommitResult, Session, type SessionManagerStats } from './session.ts'
export {
  type AttemptCount,
  type AttemptStore,
  type AttemptSubject,
  type LoginThrottle,
  type LoginThrottleOptions,
  loginThrottle,
  type ThrottleRule,
  type ThrottleVerdict,
} from './throttle.ts'
export type { TicketResponseBody, TicketRouteOptions } from './ticket-route.ts'
export { DEFAULT_TICKET_TTL_MS, type TicketPayload, type TicketStore } from './tickets.ts'
export { type MemoryTicketStoreOptions, memoryTicketStore } from './tickets-memory.ts'
export type {
  BackendCapabilities,
  IdFormat,
  SessionBackend,
  SessionCodec,
  SessionData,
  SessionRecord,
} from './types.ts'
export type { AuthUser, UserSource } from './users.ts'
export {
  type MemoryUser,
  type MemoryUserSeed,
  type MemoryUserSource,
  type MemoryUserSourceOptions,
  memoryUserSource,
} from './users-memory.ts'
export { type VerifyTicketOptions, verifyTicket } from './verify-ticket.ts'
