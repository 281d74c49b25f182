// Free loopback ports for tests: bind 127.0.0.1:0, note the port, release. All sockets of one call are
// held until every port is chosen, so the ports returned together are distinct.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

export type PortKind = 'udp' | 'tcp';

function bindUdp(port = 0): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

function bindTcp(port = 0): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

type Held = { port: number; close: () => Promise<void> };

async function hold(kind: PortKind, port = 0): Promise<Held | undefined> {
  if (kind === 'udp') {
    const s = await bindUdp(port);
    return s && { port: s.address().port, close: () => new Promise<void>((r) => s.close(() => r())) };
  }
  const s = await bindTcp(port);
  const addr = s?.address();
  return s && addr && typeof addr === 'object'
    ? { port: addr.port, close: () => new Promise<void>((r) => s.close(() => r())) }
    : undefined;
}

/** One free port (or `count` distinct ones) on 127.0.0.1 for `kind`. */
export async function freePort(kind: PortKind): Promise<number>;
export async function freePort(kind: PortKind, count: number): Promise<number[]>;
export async function freePort(kind: PortKind, count?: number): Promise<number | number[]> {
  const held: Held[] = [];
  try {
    for (let i = 0; i < (count ?? 1); i++) {
      const h = await hold(kind);
      if (!h) throw new Error(`could not bind a free ${kind} port on 127.0.0.1`);
      held.push(h);
    }
    const ports = held.map((h) => h.port);
    return count === undefined ? ports[0]! : ports;
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
}

/** A free SIP port usable for both UDP and TCP (SIPp and the gateway may listen on either). */
export async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const udp = await hold('udp');
    if (!udp) continue;
    const tcp = await hold('tcp', udp.port);
    await udp.close();
    if (tcp) {
      await tcp.close();
      return udp.port;
    }
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

/** An even UDP port p with p+1 free too (RTP + RTCP, RFC 3550 §11). */
export async function freeUdpPortPair(): Promise<{ rtp: number; rtcp: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = await hold('udp');
    if (!first) continue;
    const even = first.port % 2 === 0 ? first : undefined;
    const base = even ? first.port : first.port + 1;
    const a = even ?? (base <= 65534 ? await hold('udp', base) : undefined);
    const b = a && base + 1 <= 65535 ? await hold('udp', base + 1) : undefined;
    await Promise.all([first.close(), a && a !== first ? a.close() : undefined, b?.close()]);
    if (a && b) return { rtp: base, rtcp: base + 1 };
  }
  throw new Error('no free even/odd UDP port pair on 127.0.0.1');
}
