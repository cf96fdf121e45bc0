export type { AdoptedSession, SessionAdopter } from './adoption.ts'
export { type MemoryAttemptStoreOptions, memoryAttemptStore } from './attempts-memory.ts'
export { checkUserSource, getUser, LazyUser, login, logout, RequestAuth } from './auth.ts'
export { type AuthenticateOptions, type AuthenticateResult, authenticate } from './authenticate.ts'
export {
  type BasicCredentials,
  type BasicGuardOptions,
  decideBasicGuard,
  type GuardDecision,
  type GuardRequest,
  MAX_BASIC_HEADER_LENGTH,
  parseBasicAuth,
  type ResolvedBasicGuard,
  resolveBasicGuard,
} from './basic-auth.ts'
export { isPlainObject, jsonCodec, plainData } from './codec-json.ts'
export { type CommitPlan, type CommitReason, type CommitState, decideCommit } from './commit.ts'
export { timingSafeEqual } from './compare.ts'
export {
  isSecureRequest,
  MAX_COOKIE_HEADER_LENGTH,
  MAX_COOKIE_VALUE_LENGTH,
  type RequestTransport,
  type ResolvedCookieOptions,
  readCookie,
  resolveCookieOptions,
  type SessionCookieOptions,
  writeCookie,
} from './cookies.ts'
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
  missingOption,
  SessionBackendError,
  SessionConfigError,
  SessionConflictError,
  SessionDataError,
  SessionError,
  SessionTimeoutError,
} from './errors.ts'
export {
  type AlphabetIdFormatOptions,
  alnum64IdFormat,
  alphabetIdFormat,
  base64UrlDecode,
  base64UrlEncode,
  defaultIdFormat,
  djangoIdFormat,
  randomString,
  randomToken,
} from './ids.ts'
export { createSessionManager, type SessionManager, type SessionRequest } from './manager.ts'
export { type MemoryBackendOptions, type MemoryEntry, memoryBackend } from './memory.ts'
export {
  type ResolvedSessionOptions,
  resolveSessionOptions,
  type SessionLogger,
  type SessionManagerOptions,
} from './options.ts'
export {
  type CommitResult,
  Session,
  type SessionContext,
  type SessionManagerStats,
  type SessionStart,
} from './session.ts'
export { createSigner, type Signer, type UnsignResult } from './signing.ts'
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
export {
  answerTicketRequest,
  type ResolvedTicketRoute,
  realtimeTicketFor,
  resolveTicketRoute,
  type TicketAnswer,
  type TicketResponseBody,
  type TicketRouteOptions,
} from './ticket-route.ts'
export { DEFAULT_TICKET_TTL_MS, type TicketPayload, type TicketStore } from './tickets.ts'
export { type MemoryTicketStoreOptions, memoryTicketStore } from './tickets-memory.ts'
export { boundedCall } from './timeout.ts'
export {
  BASIC_CAPABILITIES,
  type BackendCapabilities,
  type ChangeSet,
  type IdFormat,
  RESERVED_KEYS,
  type SessionBackend,
  type SessionCodec,
  type SessionData,
  type SessionRecord,
  type UpdateOptions,
  type UpdateResult,
} from './types.ts'
export { AUTH_SESSION_KEYS, type AuthUser, DEFAULT_AUTH_BACKEND, type UserSource } from './users.ts'
export {
  type MemoryUser,
  type MemoryUserSeed,
  type MemoryUserSource,
  type MemoryUserSourceOptions,
  memoryUserSource,
} from './users-memory.ts'
export { type VerifyTicketOptions, verifyTicket } from './verify-ticket.ts'
