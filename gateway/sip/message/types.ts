// The SIP message model shared by every layer (RFC 3261 §7). Lower layers (transport, transaction,
// dialog, auth) and the call layer all speak these types; nothing here knows about sockets or timers.

/** One header field line. `name` is the canonical long form ("Via", "Call-ID", "CSeq", "WWW-Authenticate"),
 *  whatever form (compact "v", "i", any case) it had on the wire. `value` is the raw field value with
 *  leading/trailing whitespace and line folding removed (RFC 3261 §7.3.1). A header that appeared as a
 *  comma-separated list stays one field here; use getHeaderValues() to split it. */
export interface HeaderField {
  name: string;
  value: string;
}

export interface SipRequest {
  kind: 'request';
  method: string;
  /** Request-URI text exactly as on the start line. */
  uri: string;
  version: string;
  headers: HeaderField[];
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  version: string;
  headers: HeaderField[];
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** RFC 3261 §19.1 SIP/SIPS URI (also used for tel: with host = the number). */
export interface SipUri {
  scheme: string; // 'sip' | 'sips' | 'tel' | other absolute URI schemes
  user?: string; // unescaped
  password?: string;
  host: string; // IPv6 kept with brackets: "[::1]"
  port?: number;
  /** uri-parameters; a parameter with no value maps to null. Names lower-cased. */
  params: Record<string, string | null>;
  /** ?headers, unescaped. */
  headers: Record<string, string>;
}

/** name-addr / addr-spec with header parameters (From, To, Contact, Route, Record-Route …). */
export interface NameAddr {
  displayName?: string;
  uri: SipUri;
  /** header parameters (tag, expires, q …); no value → null. Names lower-cased. */
  params: Record<string, string | null>;
}

/** RFC 3261 §20.42 Via header value (one via-parm). */
export interface Via {
  protocol: string; // "SIP/2.0"
  transport: string; // upper case: UDP, TCP, TLS, WS, WSS
  host: string;
  port?: number;
  /** branch, received, rport (null when present without value), maddr, ttl … */
  params: Record<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** Thrown by the parser. `reason` names the fault and is fit to be a 400 reason phrase.
 *  `partial` carries whatever was parsed (start line, headers) so a 400 can still be built.
 *  `status` is the response a UAS should answer with: 400 (default), 505 for a SIP-Version other than
 *  SIP/2.0 (RFC 3261 §21.5.6), 416 for an unsupported Request-URI scheme (RFC 3261 §8.2.2.1). */
export class SipParseError extends Error {
  constructor(
    readonly reason: string,
    readonly partial?: { method?: string; headers?: HeaderField[]; isRequest?: boolean },
    readonly status: number = 400,
  ) {
    super(reason);
    this.name = 'SipParseError';
  }
}
