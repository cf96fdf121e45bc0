// For framework and backend authors: the per-request driver, the commit decision, bounded calls,
// configuration helpers. Applications import from `@sessionbridge/core`.

export {
  bodyField,
  RequestSlot,
  type RouteMakers,
  type SessionMemberFacts,
  type SessionRoutes,
  sessionMembers,
  sessionRoutes,
} from './adapter-kit.ts'
export { checkUserSource, RequestAuth } from './auth.ts'
export {
  type BasicCredentials,
  decideBasicGuard,
  type GuardDecision,
  type GuardRequest,
  MAX_BASIC_HEADER_LENGTH,
  parseBasicAuth,
  type ResolvedBasicGuard,
  resolveBasicGuard,
} from './basic-auth.ts'
export { BoundedCache } from './bounded-cache.ts'
export { changesKey } from './changes.ts'
export { isPlainDataObject, isPlainObject } from './codec-json.ts'
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
  writeCookie,
} from './cookies.ts'
export { countDigits, msText, wholeNumber } from './digits.ts'
export { type SessionErrorAnswer, sessionErrorAnswer } from './error-answer.ts'
export { backendCall, backendError, keepingAppErrors, keepSessionErrors, missingOption } from './errors.ts'
export { type HmacEncoding, type HmacHash, type HmacKey, hmacKey } from './hmac.ts'
export {
  base64Encode,
  base64UrlDecode,
  base64UrlEncode,
  cookieSafeIds,
  randomString,
  randomToken,
} from './ids.ts'
export { parseJson } from './json-parse.ts'
export { jsonText, plainJsonString } from './json-text.ts'
export {
  createSessionManager,
  type SessionManager,
  type SessionManagerMeta,
  type SessionRequest,
} from './manager.ts'
export type { MemoryEntry } from './memory.ts'
export {
  type NativeCrypto,
  type NativeDigest,
  type NativeModules,
  type NativeZlib,
  nativeModules,
} from './native.ts'
export { type NodeResponse, ResponseGate } from './node-response.ts'
export { type ResolvedSessionOptions, resolveSessionOptions } from './options.ts'
export { settlingAtOnce } from './prompt-then.ts'
export {
  type ExtensionAnswer,
  type RequestCheckInput,
  type RequestExtension,
  RequestSession,
  SessionDriver,
  type SessionDriverMeta,
  type SessionDriverOptions,
} from './request.ts'
export type { LoadAtOnce } from './runner.ts'
export type { CommitResult, SessionContext, SessionStart } from './session.ts'
export { createSigner, type Signer, type UnsignResult } from './signing.ts'
export { parseSqlDateTime, type SqlDateTimeDialect, toDjangoSqlDateTime } from './sql-datetime.ts'
export { sqlStatement } from './sql-params.ts'
export {
  answerTicketRequest,
  type ResolvedTicketRoute,
  realtimeTicketFor,
  resolveTicketRoute,
  type TicketAnswer,
} from './ticket-route.ts'
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
export { AUTH_SESSION_KEYS, DEFAULT_AUTH_BACKEND } from './users.ts'
export { utf8Length, utf8Overflow } from './utf8-length.ts'
export { wallClock } from './wall-clock.ts'
