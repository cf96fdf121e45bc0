export {
  type RestSessionInfo,
  type RestSessionsBackend,
  type RestSessionsBackendOptions,
  restSessionsBackend,
} from './backend.ts'
export { RestSessionsAnonymousError, RestSessionsHttpError } from './errors.ts'
export {
  type FetchTransportOptions,
  fetchTransport,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './transport.ts'
export { decodeValue, encodeValue, JSON_MARKER } from './values.ts'
