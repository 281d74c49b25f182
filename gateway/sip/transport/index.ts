// The SIP transport layer (RFC 3261 §18, RFC 7118 SIP over WebSocket, RFC 3581 rport).
export { createTransport } from './transport.js';
export type { TransportOptions, ListenSpec, WsListenSpec } from './options.js';
export { DEFAULTS as TRANSPORT_DEFAULTS } from './options.js';
export { selectResponseDestination, stampInboundVia, type ResponseDestination, type ResponseRouting } from './addressing.js';
export { fitsWithin, limitResponseSize, receivedSize, responseBudget } from './budget.js';
export { TransportError } from './types.js';
export type { Address, Flow, OnWritten, SipTransport, Target, TransportKind, WireCopy } from './types.js';
export { tlsSettingsFor, type TlsPeer, type TlsClientOptions, type TlsServerCredentials } from './tls.js';
