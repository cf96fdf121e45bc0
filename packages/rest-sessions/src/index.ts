export {
  type RestSessionInfo,
  type RestSessionsBackend,
  type RestSessionsBackendOptions,
  restSessionsBackend,
} from './backend.ts'
export { EXTENSIONS_PATH, type ServerExtensions } from './discovery.ts'
export { RestSessionsAnonymousError, RestSessionsHttpError, RestSessionsUnsupportedError } from './errors.ts'
export {
  type FetchTransportOptions,
  fetchTransport,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport.ts'
export { decodeValue, encodeValue, JSON_MARKER } from './values.ts'
