export { jsonCodec, isPlainObject } from './codec-json.ts'
export { type CommitPlan, type CommitReason, type CommitState, decideCommit } from './commit.ts'
export { timingSafeEqual } from './compare.ts'
export {
  MAX_COOKIE_HEADER_LENGTH,
  MAX_COOKIE_VALUE_LENGTH,
  type RequestTransport,
  type ResolvedCookieOptions,
  type SessionCookieOptions,
  isSecureRequest,
  readCookie,
  resolveCookieOptions,
  writeCookie,
} from './cookies.ts'
export {
  SessionBackendError,
  SessionConfigError,
  SessionDataError,
  SessionError,
  SessionTimeoutError,
  missingOption,
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
export { type SessionManager, type SessionRequest, createSessionManager } from './manager.ts'
export { type MemoryBackendOptions, type MemoryEntry, memoryBackend } from './memory.ts'
export {
  type ResolvedSessionOptions,
  type SessionLogger,
  type SessionManagerOptions,
  resolveSessionOptions,
} from './options.ts'
export { type CommitResult, Session, type SessionContext, type SessionStart } from './session.ts'
export { type Signer, type UnsignResult, createSigner } from './signing.ts'
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
} from './types.ts'
export { AUTH_SESSION_KEYS, type AuthUser, DEFAULT_AUTH_BACKEND, type UserSource } from './users.ts'
