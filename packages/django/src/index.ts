export { base62Decode, base62Encode } from './base62.ts'
export { type DjangoCodecOptions, djangoCodec } from './codec.ts'
export { type DjangoHashAlgorithm, saltedHmac } from './crypto.ts'
export { djangoExpiry, parseDjangoExpiry } from './expiry.ts'
export {
  DJANGO_PBKDF2_ITERATIONS,
  type PasswordAlgorithm,
  type PasswordCheck,
  type PasswordHashers,
  type PasswordHashersOptions,
  passwordHashers,
  UNUSABLE_PASSWORD_PREFIX,
} from './hashers.ts'
export {
  DjangoHasherUnavailableError,
  OPTIONAL_HASHER_PACKAGES,
  type OptionalHasher,
  type PasswordVerifier,
} from './hashers-optional.ts'
export { pythonFloatRepr, pythonJsonDumps, pythonJsonLoads } from './python-json.ts'
export { Signer, type SignerOptions, type TimestampCheck, TimestampSigner } from './signer.ts'
export { type DumpsOptions, dumps, type LoadsOptions, type LoadsResult, loads } from './signing.ts'
export { type DjangoSqlClient, fromSqlDate, toSqlDate } from './sql.ts'
export {
  type DjangoPermissionTables,
  type DjangoRegistration,
  type DjangoUser,
  type DjangoUserColumns,
  type DjangoUserField,
  type DjangoUsers,
  type DjangoUsersOptions,
  djangoUsers,
} from './users.ts'
export {
  DEFAULT_DJANGO_VERSION,
  DJANGO_VERSIONS,
  type DjangoTraits,
  type DjangoVersion,
  djangoTraits,
} from './versions.ts'
