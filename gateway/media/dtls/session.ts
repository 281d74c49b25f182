// DTLS-SRTP handshake on a browser leg (RFC 5763 / RFC 5764), using only werift's DTLS classes:
// no RTCPeerConnection, no ICE agent, nothing that gathers candidates or contacts a STUN server.
// Records are fed in by the leg's socket demultiplexer and sent out through `send`.
// werift is loaded on demand (the first session starts it; ≈ 30 MiB and ~0.5 s of start-up a gateway at
// rest or with only SIP phones never pays); records that arrive before it is ready wait in the session.
import type { DtlsClient, DtlsServer } from 'werift';
import { fingerprintOf, sameFingerprint, type DtlsCertificate } from './certificate.js';

export type DtlsRole = 'server' | 'client';
export type DtlsState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

const EDGES: Record<DtlsState, readonly DtlsState[]> = {
  new: ['connecting', 'closed'],
  connecting: ['connected', 'failed', 'closed'],
  connected: ['closed'],
  failed: ['closed'],
  closed: [],
};

/** The one transition function: illegal edges throw. */
export function nextDtlsState(from: DtlsState, to: DtlsState): DtlsState {
  if (!EDGES[from].includes(to)) throw new Error(`DTLS: illegal transition ${from} → ${to}`);
  return to;
}

/** RFC 5764 §4.2: 2 × (16-byte key) + 2 × (14-byte salt) for SRTP_AES128_CM_HMAC_SHA1_80. */
export const SRTP_KEYING_MATERIAL_LENGTH = 60;
export const SRTP_PROFILE = 'SRTP_AES128_CM_HMAC_SHA1_80' as const;

export interface DtlsKeys {
  /** RFC 5705 exporter output, label "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2). */
  keyingMaterial: Buffer;
  role: DtlsRole;
  profile: typeof SRTP_PROFILE;
}

/** What a session logs with: a pino Logger, or a leg's (legs/leg-log.ts). */
export interface DtlsLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface DtlsSessionOptions {
  role: DtlsRole;
  certificate: DtlsCertificate;
  /** The peer's a=fingerprint:sha-256 value from its SDP. */
  remoteFingerprint: string;
  /** Send one datagram to the peer (the leg's latched address). */
  send: (datagram: Buffer) => void;
  onKeys: (keys: DtlsKeys) => void;
  onFailed?: (reason: string) => void;
  logger: DtlsLog;
}

type Werift = typeof import('werift');
let werift: Werift | undefined;
let loading: Promise<Werift> | undefined;

/** Loads the DTLS library once; later calls return the same promise. A leg may call it early (on the
 *  offer) so that the library is ready by the time the peer's first record arrives. */
export function loadDtls(): Promise<Werift> {
  loading ??= import('werift').then((m) => (werift = m));
  return loading;
}

/** Records held while the library loads (a ClientHello flight is 1–2 datagrams; retransmissions add a few). */
const MAX_EARLY_RECORDS = 16;

/** werift's Transport contract, backed by the leg's socket. */
class LegTransport {
  readonly type = 'udp';
  closed = false;
  onData: (data: Buffer, addr: unknown) => void = () => {};
  readonly address = { address: '0.0.0.0', family: 'IPv4', port: 0 };
  constructor(private readonly out: (datagram: Buffer) => void) {}
  send = async (data: Buffer): Promise<void> => {
    if (!this.closed) this.out(data);
  };
  close = async (): Promise<void> => {
    this.closed = true;
  };
}

export class DtlsSession {
  private stateValue: DtlsState = 'new';
  private readonly transport: LegTransport;
  private socket: DtlsServer | DtlsClient | undefined;
  /** werift's endpoint was let go after the handshake (release()). */
  private released = false;
  /** Records that arrived before the library was loaded, replayed in order once it is. */
  private early: Buffer[] = [];

  constructor(private readonly options: DtlsSessionOptions) {
    this.transport = new LegTransport(options.send);
    if (werift) this.attach(werift);
    else {
      loadDtls().then(
        (m) => this.attach(m),
        (error: unknown) => {
          this.early = [];
          if (this.stateValue === 'new') this.move('connecting');
          this.fail(`DTLS library failed to load: ${String(error)}`);
        },
      );
    }
  }

  /** Creates werift's DTLS endpoint, then runs what waited for it: the client's connect, early records. */
  private attach(m: Werift): void {
    if (this.socket || this.released || this.stateValue === 'closed' || this.stateValue === 'failed') return;
    const options = this.options;
    const common = {
      transport: this.transport,
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      signatureHash: options.certificate.signatureHash,
      srtpProfiles: [m.ProtectionProfileAes128CmHmacSha1_80],
      extendedMasterSecret: true,
    };
    // RFC 5763 §5: the DTLS server MUST request the client's certificate, to check its fingerprint.
    const socket =
      options.role === 'server'
        ? new m.DtlsServer({ ...common, certificateRequest: true } as ConstructorParameters<typeof DtlsServer>[0])
        : new m.DtlsClient(common as ConstructorParameters<typeof DtlsClient>[0]);
    this.socket = socket;
    socket.onConnect.subscribe(() => this.connected());
    socket.onError.subscribe((error: unknown) => this.fail(`handshake error: ${String(error)}`));
    if (this.stateValue === 'connecting') this.connect();
    const early = this.early;
    this.early = [];
    for (const datagram of early) this.handle(datagram);
  }

  private connect(): void {
    const socket = this.socket;
    if (this.options.role !== 'client' || !socket) return;
    (socket as DtlsClient).connect().catch((error: unknown) => this.fail(`connect failed: ${String(error)}`));
  }

  get state(): DtlsState {
    return this.stateValue;
  }

  get role(): DtlsRole {
    return this.options.role;
  }

  private move(to: DtlsState): void {
    this.stateValue = nextDtlsState(this.stateValue, to);
  }

  /** Server: wait for the ClientHello. Client: send it (RFC 6347 §4.2.4 flight 1). */
  start(): void {
    if (this.stateValue !== 'new') return;
    this.move('connecting');
    this.connect();
  }

  /** One DTLS record datagram from the peer (RFC 7983: first byte 20..63). */
  handle(datagram: Buffer): void {
    if (this.stateValue === 'closed' || this.stateValue === 'failed' || this.released) return;
    if (this.stateValue === 'new') this.start();
    if (!this.socket) {
      if (this.early.length < MAX_EARLY_RECORDS) this.early.push(datagram);
      return;
    }
    try {
      this.transport.onData(datagram, undefined);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'dropped malformed DTLS datagram');
    }
  }

  private connected(): void {
    if (this.stateValue !== 'connecting') return; // a renegotiation after connect keeps the first keys
    const remote = this.socket!.remoteCertificate;
    if (!remote) return this.fail('peer sent no certificate');
    const actual = fingerprintOf(Buffer.from(remote));
    // RFC 8122 §5 / RFC 5763 §5: the certificate must match the a=fingerprint of the peer's SDP.
    if (!sameFingerprint(actual, this.options.remoteFingerprint)) {
      return this.fail(`certificate fingerprint ${actual} does not match SDP ${this.options.remoteFingerprint}`);
    }
    const keyingMaterial = this.socket!.exportKeyingMaterial('EXTRACTOR-dtls_srtp', SRTP_KEYING_MATERIAL_LENGTH);
    this.move('connected');
    this.options.logger.info({ role: this.options.role }, 'DTLS-SRTP connected');
    this.options.onKeys({ keyingMaterial, role: this.options.role, profile: SRTP_PROFILE });
  }

  private fail(reason: string): void {
    if (this.stateValue !== 'connecting') {
      this.options.logger.debug({ reason, state: this.stateValue }, 'DTLS error outside the handshake');
      return;
    }
    this.move('failed');
    this.options.logger.warn({ reason }, 'DTLS-SRTP failed');
    this.transport.closed = true;
    this.options.onFailed?.(reason);
  }

  /** Whether werift's endpoint was let go (release()). */
  get isReleased(): boolean {
    return this.released;
  }

  /**
   * The handshake is over and the peer uses its keys: let werift's endpoint go (its handshake messages,
   * both certificates, cipher state and closures: ≈ 25 KiB a call, kept until the call ended otherwise).
   * Call it once the peer's first SRTP or SRTCP packet authenticated with this association's keys: the
   * peer exports them only after its side of the handshake finished, so the one duty left after the
   * handshake — RFC 6347 §4.2.4: the node that sent the last flight "MUST respond to a retransmission of
   * the peer's last flight with a retransmit of the last flight" — can no longer arise (the peer has our
   * last flight). What is lost: records of this association after that point are dropped unread (alerts
   * such as close_notify: the call's end is signalled in SIP; DTLS application data: none in DTLS-SRTP;
   * renegotiation inside the association: not used by browsers). A new association — a new ClientHello,
   * or an SDP with another fingerprint or role — is a new DtlsSession (legs/dtls-link.ts), as before.
   */
  release(): void {
    if (this.stateValue !== 'connected' || this.released) return;
    this.released = true;
    this.transport.closed = true; // a flight timer of werift's still running sends nothing
    this.transport.onData = () => {};
    this.socket = undefined;
  }

  close(): void {
    if (this.stateValue === 'closed') return;
    this.move('closed');
    this.early = [];
    this.transport.closed = true;
  }
}
