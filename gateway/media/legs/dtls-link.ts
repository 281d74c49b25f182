// The DTLS-SRTP association of one browser leg, and its replacement when the browser starts a new
// one. RFC 5763 §6.6: on a session modification "the peers can reuse the existing associations if
// they are compatible (i.e., they have the same key fingerprints and transport parameters), or
// establish a new one following the same rules are for initial exchanges". A new association starts
// when:
//  - the browser's SDP names another fingerprint or leaves us another DTLS role (a new
//    RTCPeerConnection, a new certificate; RFC 5763 §6.6: "if the active/passive status of the
//    endpoints changes, a new connection MUST be established"), or
//  - while we are the DTLS server, a new ClientHello (epoch 0, message_seq 0) arrives after the
//    running handshake ended (the browser restarted its DTLS transport, e.g. after an ICE restart).
// The keys of the running association stay in use until the new one delivers its own, so media keeps
// flowing during the new handshake and a stray ClientHello that never completes costs nothing.
// Once the browser's media authenticates with an association's keys, that association's DTLS library
// state is let go (DtlsSession.release(): the handshake can no longer need it); the link keeps what
// recognises a new association (a ClientHello, the SDP's fingerprint and role).
import { sameFingerprint, type DtlsCertificate } from '../dtls/certificate.js';
import { isInitialClientHello } from '../dtls/record.js';
import { DtlsSession, type DtlsKeys, type DtlsRole, type DtlsState } from '../dtls/session.js';
import type { LegLog } from './leg-log.js';

/** DTLS records that arrive before the SDP fixed our role (the browser answered our offer and started
 *  its handshake before the SIP answer reached the engine) wait here, a handful at most. */
const MAX_EARLY_DTLS = 8;

export interface DtlsParams {
  /** The browser's a=fingerprint:sha-256. */
  fingerprint: string;
  /** Our role. */
  role: DtlsRole;
}

export interface DtlsLinkOptions {
  certificate: DtlsCertificate;
  /** Send a datagram to the browser's selected address (dropped while there is none). */
  send: (datagram: Buffer) => void;
  /** Keys of each association that completes: the first one, then those of every restart. */
  onKeys: (keys: DtlsKeys) => void;
  logger: LegLog;
}

export class DtlsLink {
  private session: DtlsSession | undefined;
  /** The session whose keys were delivered last (the keys SRTP uses now). */
  private keyed: DtlsSession | undefined;
  private params: DtlsParams | undefined;
  private early: Buffer[] = [];
  private pathUp = false;
  private closed = false;
  /** Associations started after the first (observable for tests and logs). */
  restarts = 0;

  constructor(private readonly options: DtlsLinkOptions) {}

  get state(): DtlsState {
    return this.session?.state ?? 'new';
  }

  get role(): DtlsRole | undefined {
    return this.params?.role;
  }

  /** The browser's DTLS parameters from an offer or answer: keep a compatible running association,
   *  else start one. */
  configure(params: DtlsParams): void {
    if (this.closed) return;
    const previous = this.params;
    this.params = { ...params };
    if (!this.session) {
      this.begin();
      const early = this.early;
      this.early = [];
      for (const datagram of early) this.session!.handle(datagram);
      return;
    }
    if (!sameFingerprint(previous!.fingerprint, params.fingerprint) || previous!.role !== params.role) {
      this.restart('SDP changed the fingerprint or the DTLS role');
    }
  }

  /** ICE selected a (new) browser address: a DTLS client can now send its ClientHello. */
  pathReady(): void {
    this.pathUp = true;
    if (this.params?.role === 'client') this.session?.start();
  }

  /** One DTLS datagram from the selected address. */
  handle(datagram: Buffer): void {
    if (this.closed) return;
    if (!this.session) {
      if (this.early.length < MAX_EARLY_DTLS) this.early.push(datagram);
      return;
    }
    const ended = this.session.state === 'connected' || this.session.state === 'failed';
    if (ended && this.params!.role === 'server' && isInitialClientHello(datagram)) {
      this.restart('new ClientHello after the handshake');
    }
    this.session.handle(datagram);
  }

  /** The browser's SRTP or SRTCP authenticated with the keys delivered last: if they are the running
   *  association's, its handshake is over on both ends and the DTLS library's state can go. */
  keysInUse(): void {
    const session = this.session;
    if (session && session === this.keyed && session.state === 'connected') session.release();
  }

  /** The running association let its DTLS library state go (keysInUse()). */
  get released(): boolean {
    return this.session?.isReleased ?? false;
  }

  private restart(reason: string): void {
    this.restarts++;
    this.options.logger.info({ reason, role: this.params!.role }, 'DTLS: new association');
    this.session!.close();
    this.begin();
  }

  private begin(): void {
    const params = this.params!;
    const session = new DtlsSession({
      role: params.role,
      certificate: this.options.certificate,
      remoteFingerprint: params.fingerprint,
      send: (datagram) => {
        if (this.session === session) this.options.send(datagram);
      },
      onKeys: (keys) => {
        if (this.session !== session || this.closed) return;
        this.keyed = session;
        this.options.onKeys(keys);
      },
      logger: this.options.logger,
    });
    this.session = session;
    if (params.role === 'client' && this.pathUp) session.start();
  }

  close(): void {
    this.closed = true;
    this.session?.close();
  }
}
