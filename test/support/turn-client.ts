// A minimal TURN client for tests (RFC 8656 Allocate with the RFC 8489 §9.2 long-term credential mechanism),
// over UDP (RFC 8489 §6.2.1 retransmissions) or TCP (§6.2.2: one connection, messages framed by their length
// field). Encoding and decoding are the gateway's own STUN code (gateway/media/stun).
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import {
  ATTR,
  METHOD_ALLOCATE,
  METHOD_CREATE_PERMISSION,
  buildStun,
  checkFingerprint,
  decodeErrorCode,
  decodeXorAddress,
  encodeXorAddress,
  getAttribute,
  parseStun,
  type StunMessage,
  type TransportAddress,
} from '../../gateway/media/stun/index.js';

export type TurnTransport = 'udp' | 'tcp';

export interface StunChannel {
  /** Sends a request and resolves with the response carrying its transaction id. */
  request(msg: Buffer): Promise<StunMessage>;
  close(): void;
}

/** RFC 8656 §18.7: REQUESTED-TRANSPORT carries the protocol number (17 = UDP) and three RFFU bytes. */
const UDP_RELAY = Buffer.from([17, 0, 0, 0]);
/** RFC 8489 §6.2.1: RTO 500 ms, doubled on each of Rc = 7 sends; then Rm × RTO for the last one. */
const RTO_MS = 500;
const RC = 7;

function parsed(buf: Buffer): StunMessage | undefined {
  const r = parseStun(buf);
  return r.ok ? r.message : undefined;
}

export function udpChannel(server: TransportAddress): Promise<StunChannel> {
  const socket = createSocket('udp4');
  const waiting = new Map<string, (m: StunMessage) => void>();
  socket.on('message', (buf) => {
    const m = parsed(buf);
    if (m) waiting.get(m.transactionId.toString('hex'))?.(m);
  });
  const request = (msg: Buffer): Promise<StunMessage> =>
    new Promise((resolve, reject) => {
      const id = msg.subarray(8, 20).toString('hex');
      let sends = 0;
      let timer: NodeJS.Timeout | undefined;
      const send = (): void => {
        if (sends === RC) {
          waiting.delete(id);
          reject(new Error(`no STUN response from ${server.address}:${server.port} over UDP after ${RC} sends`));
          return;
        }
        socket.send(msg, server.port, server.address);
        timer = setTimeout(send, RTO_MS * 2 ** sends++);
      };
      waiting.set(id, (m) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(m);
      });
      send();
    });
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve({ request, close: () => socket.close() })));
}

export function tcpChannel(server: TransportAddress, timeoutMs = 10_000): Promise<StunChannel> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: server.address, port: server.port });
    const waiting = new Map<string, (m: StunMessage) => void>();
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // §6.2.2 / RFC 8656 §5: the 20-byte header's length field says where each message ends.
      while (buffered.length >= 20 && buffered.length >= 20 + buffered.readUInt16BE(2)) {
        const size = 20 + buffered.readUInt16BE(2);
        const m = parsed(Buffer.from(buffered.subarray(0, size)));
        buffered = buffered.subarray(size);
        if (m) waiting.get(m.transactionId.toString('hex'))?.(m);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined); // a reset after the test's last request
      const request = (msg: Buffer): Promise<StunMessage> =>
        new Promise((res, rej) => {
          const id = msg.subarray(8, 20).toString('hex');
          const timer = setTimeout(() => rej(new Error(`no STUN response over TCP within ${timeoutMs} ms`)), timeoutMs);
          waiting.set(id, (m) => {
            clearTimeout(timer);
            waiting.delete(id);
            res(m);
          });
          socket.write(msg);
        });
      resolve({ request, close: () => socket.destroy() });
    });
  });
}

/** RFC 8489 §9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)) (ASCII here). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

export interface AllocateOutcome {
  /** The unauthenticated first Allocate's response (RFC 8656 §7.2 → 401 with REALM and NONCE). */
  challenge: StunMessage;
  /** The authenticated retry's response. */
  response: StunMessage;
  /** The long-term key the retry was signed with (verifies the response's MESSAGE-INTEGRITY). */
  key: Buffer;
  /** USERNAME, REALM and NONCE as sent in the retry: later requests on the allocation carry them too. */
  auth: Array<{ type: number; value: Buffer }>;
}

type Attr = { type: number; value: Buffer };

function request(method: number, attributes: Attr[], key?: Buffer, transactionId = randomBytes(12)): Buffer {
  return buildStun({ method, cls: 'request', transactionId, attributes, integrityKey: key, fingerprint: true });
}

function allocateRequest(extra: Attr[], key?: Buffer): Buffer {
  return request(METHOD_ALLOCATE, [...extra, { type: ATTR.REQUESTED_TRANSPORT, value: UDP_RELAY }], key);
}

/** RFC 8656 §7.1: Allocate without credentials, take REALM and NONCE from the 401, retry signed. */
export async function allocate(channel: StunChannel, username: string, password: string): Promise<AllocateOutcome> {
  const challenge = await channel.request(allocateRequest([]));
  const realm = getAttribute(challenge, ATTR.REALM)?.value;
  const nonce = getAttribute(challenge, ATTR.NONCE)?.value;
  if (!realm || !nonce) return { challenge, response: challenge, key: Buffer.alloc(0), auth: [] };
  const key = longTermKey(username, realm.toString('utf8'), password);
  const attrs = [
    { type: ATTR.USERNAME, value: Buffer.from(username, 'utf8') },
    { type: ATTR.REALM, value: realm },
    { type: ATTR.NONCE, value: nonce },
  ];
  const response = await channel.request(allocateRequest(attrs, key));
  return { challenge, response, key, auth: attrs };
}

/** RFC 8656 §9: CreatePermission for `peer` on the allocation `allocated` made on this channel (no data is
 *  ever sent to the peer). */
export function createPermission(channel: StunChannel, allocated: AllocateOutcome, peer: TransportAddress): Promise<StunMessage> {
  const id = randomBytes(12);
  const xorPeer = { type: ATTR.XOR_PEER_ADDRESS, value: encodeXorAddress(peer, id) };
  return channel.request(request(METHOD_CREATE_PERMISSION, [xorPeer, ...allocated.auth], allocated.key, id));
}

/** The parts of a STUN response the tests look at. */
export function describeResponse(m: StunMessage): {
  cls: StunMessage['cls'];
  error?: number;
  realm?: string;
  nonce?: string;
  relayed?: Required<TransportAddress>;
  fingerprint: 'absent' | 'valid' | 'invalid';
} {
  const err = getAttribute(m, ATTR.ERROR_CODE);
  const relayed = getAttribute(m, ATTR.XOR_RELAYED_ADDRESS);
  return {
    cls: m.cls,
    error: err ? decodeErrorCode(err.value)?.code : undefined,
    realm: getAttribute(m, ATTR.REALM)?.value.toString('utf8'),
    nonce: getAttribute(m, ATTR.NONCE)?.value.toString('utf8'),
    relayed: relayed ? decodeXorAddress(relayed.value, m.transactionId) : undefined,
    fingerprint: checkFingerprint(m),
  };
}
