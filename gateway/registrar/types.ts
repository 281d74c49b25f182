// The registrar's public types: what a binding is, and how the call layer reaches a registered contact.
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { DigestServer } from '../sip/auth/index.js';
import type { SipRequest, SipUri } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import type { Address, Flow, Target, TransportKind } from '../sip/transport/types.js';

/** One registered contact of a user (RFC 3261 §10.3: a binding of an address-of-record to a Contact). */
export interface Binding {
  user: string;
  /** The Contact URI as registered. */
  contact: SipUri;
  /** Formatted Contact URI, as listed back in the 200. */
  contactText: string;
  /** Transport of the flow the REGISTER arrived on. */
  transport: TransportKind;
  /** Source address of the REGISTER (its top Via's received/rport): where a NATed phone is reached. */
  source: Address;
  /** The flow the REGISTER arrived on; absent for bindings loaded from the store after a restart. */
  flow?: Flow;
  /** +sip.instance (RFC 5626 §4.1) without quotes or angle brackets, e.g. "urn:uuid:…". */
  instance?: string;
  /** Absolute expiry, milliseconds on the registrar's clock (epoch ms by default). */
  expiresAt: number;
  /** Call-ID and CSeq of the REGISTER that made or last refreshed it (RFC 3261 §10.3 steps 6-7). */
  callId: string;
  cseq: number;
}

/** How to send a request (INVITE, CANCEL …) to one registered contact. */
export interface ContactRoute {
  user: string;
  /** The registered Contact URI: the Request-URI of a request to this contact (RFC 3261 §10.3, §16.5). */
  contact: SipUri;
  contactText: string;
  /** An alive WS/WSS/TCP/TLS flow to send on. WS/WSS contacts always have one (RFC 7118 §5, RFC 5626):
   *  they are reached only over the WebSocket that registered them, and vanish when it closes. */
  flow?: Flow;
  /** UDP/TCP/TLS address to send to when there is no alive flow: UDP → the REGISTER's source address
   *  (NAT-safe, like Kamailio's fix_nated_register); TCP/TLS → source IP and the contact's port.
   *  Absent for WS/WSS contacts. */
  target?: Target;
  /** true for WebSocket contacts (browsers): offer WebRTC SDP; false → plain RTP (SIP phones). */
  webrtc: boolean;
  /** +sip.instance, e.g. "urn:uuid:…", when the contact carried one. */
  instance?: string;
  expiresAt: number;
}

/** Fires when the number of contacts of `user` changes (register, unregister, expiry, flow death). */
export type ChangeListener = (user: string, count: number) => void;

export interface RegistrarDeps {
  config: GatewayConfig;
  digest: DigestServer;
  logger: Logger;
  now?: () => number;
  /** JSON file for UDP/TCP bindings; default config.registrar.store; false: memory only. */
  store?: string | false;
  /** Most contacts one user may hold (Kamailio's max_contacts); default 20. */
  maxContacts?: number;
  /** Debounce for store writes, ms; default 100. close() always flushes. */
  storeDelayMs?: number;
}

export interface Registrar {
  /** Handle a REGISTER on its server transaction (always answers, never throws). */
  handle(req: SipRequest, tx: ServerTransaction): void;
  /** Where to reach each current contact of `user` (empty when none). */
  lookup(user: string): ContactRoute[];
  /** The raw current bindings of `user`. */
  bindings(user: string): Binding[];
  /** Subscribe to contact-count changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
  /** Current contacts of one user, or of all users when `user` is omitted. */
  count(user?: string): number;
  /** Users with at least one contact. */
  users(): string[];
  /** Flush the store file, stop timers, forget flows. Emits no change events. Idempotent. */
  close(): void;
}
