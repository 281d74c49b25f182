// In-memory DTLS wiring shared by the media unit tests (no sockets): two sessions back to back, and a
// DtlsLink as the engine's DTLS server with browser-side clients. Datagrams cross on the next tick.
import { createLogger } from '../../../gateway/log.js';
import type { DtlsCertificate } from '../../../gateway/media/dtls/certificate.js';
import { isInitialClientHello } from '../../../gateway/media/dtls/record.js';
import { DtlsSession, type DtlsKeys } from '../../../gateway/media/dtls/session.js';
import { DtlsLink } from '../../../gateway/media/legs/dtls-link.js';

const logger = createLogger('silent');

/** A server session and a client session back to back (the client checks the server against
 *  `clientSeesFingerprint`); every datagram each side sends, its keys and its failures are recorded. */
export function dtlsPair(server: DtlsCertificate, client: DtlsCertificate, clientSeesFingerprint = server.fingerprint) {
  const sent = { server: [] as Buffer[], client: [] as Buffer[] };
  const keys: { server?: DtlsKeys; client?: DtlsKeys } = {};
  const failures: string[] = [];
  let s: DtlsSession | undefined;
  let c: DtlsSession | undefined;
  s = new DtlsSession({
    role: 'server',
    certificate: server,
    remoteFingerprint: client.fingerprint,
    send: (d) => {
      sent.server.push(Buffer.from(d));
      setImmediate(() => c?.handle(Buffer.from(d)));
    },
    onKeys: (k) => (keys.server = k),
    onFailed: (r) => failures.push(`server: ${r}`),
    logger,
  });
  c = new DtlsSession({
    role: 'client',
    certificate: client,
    remoteFingerprint: clientSeesFingerprint,
    send: (d) => {
      sent.client.push(Buffer.from(d));
      setImmediate(() => s?.handle(Buffer.from(d)));
    },
    onKeys: (k) => (keys.client = k),
    onFailed: (r) => failures.push(`client: ${r}`),
    logger,
  });
  return { s, c, sent, keys, failures };
}

/** The engine side (a DtlsLink as DTLS server) and browser-side DTLS clients wired to it; connect() starts a
 *  new association and resolves with its keys; the initial ClientHellos the clients send are recorded. */
export function dtlsLinkHarness(engineCert: DtlsCertificate) {
  const linkKeys: DtlsKeys[] = [];
  const clientHellos: Buffer[] = [];
  const clients: DtlsSession[] = [];
  let client: DtlsSession | undefined;
  const link = new DtlsLink({
    certificate: engineCert,
    send: (d) => setImmediate(() => client?.handle(Buffer.from(d))),
    onKeys: (k) => linkKeys.push(k),
    logger,
  });
  const connect = (cert: DtlsCertificate): Promise<DtlsKeys> =>
    new Promise((resolve, reject) => {
      const session = new DtlsSession({
        role: 'client',
        certificate: cert,
        remoteFingerprint: engineCert.fingerprint,
        send: (d) => {
          if (isInitialClientHello(d)) clientHellos.push(Buffer.from(d));
          setImmediate(() => link.handle(Buffer.from(d)));
        },
        onKeys: resolve,
        onFailed: reject,
        logger,
      });
      clients.push(session);
      client = session;
      session.start();
    });
  return { link, linkKeys, connect, clientHellos, close: () => [link, ...clients].forEach((x) => x.close()) };
}
