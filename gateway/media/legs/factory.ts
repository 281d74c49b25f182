// Opening a leg of either profile: ports from the allocator, sockets bound on the media address.
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { Logger } from 'pino';
import type { DtlsCertificate } from '../dtls/certificate.js';
import type { PortAllocator } from '../ports.js';
import type { SocketTracker } from '../sockets.js';
import type { MediaProfile } from '../types.js';
import { listenTcp } from '../tcp/server.js';
import { bindUdp, bindUdpPair, closeUdp } from '../udp.js';
import { createIceLiteAgent, type IceLiteAgent } from './ice-lite.js';
import type { IceTcpLimits } from './ice-tcp.js';
import { legLog } from './leg-log.js';
import { RtpLeg } from './rtp-leg.js';
import { WebrtcLeg } from './webrtc-leg.js';

export interface LegDeps {
  ports: PortAllocator;
  bindAddress: string;
  certificate: DtlsCertificate;
  logger: Logger;
  /** media.strictSource: plain RTP legs take media only from the peer's expected address. */
  strictSource: boolean;
  /** media.iceTcp: browser legs also listen on TCP on their port (RFC 6544 passive candidate). */
  iceTcp: boolean;
  iceTcpLimits: IceTcpLimits;
  /** Every socket a leg opens is tracked here until it closes (engine.openSockets()). */
  sockets?: SocketTracker;
}

export type OpenLeg =
  | { profile: 'rtp'; leg: RtpLeg; release: () => Promise<void> }
  | { profile: 'webrtc'; leg: WebrtcLeg; ice: IceLiteAgent; release: () => Promise<void> };

export async function openLeg(profile: MediaProfile, deps: LegDeps, logger: Logger): Promise<OpenLeg> {
  if (profile === 'rtp') {
    const { port, value } = await deps.ports.allocate('even-pair', (p) => bindUdpPair(deps.bindAddress, p));
    for (const socket of value) deps.sockets?.trackUdp(socket);
    const leg = new RtpLeg(port, value[0], value[1], legLog(logger, { leg: 'rtp', port }), deps.strictSource);
    return { profile, leg, release: releaser(leg, () => deps.ports.free(port, 'even-pair')) };
  }
  const { port, value } = await deps.ports.allocate('single', (p) => bindBrowserPort(deps.bindAddress, p, deps.iceTcp));
  deps.sockets?.trackUdp(value.udp);
  if (value.tcp) deps.sockets?.trackTcp(value.tcp);
  const ice = createIceLiteAgent();
  const iceTcp = value.tcp ? { server: value.tcp, limits: deps.iceTcpLimits } : undefined;
  const leg = new WebrtcLeg(port, value.udp, ice, deps.certificate, legLog(logger, { leg: 'webrtc', port }), iceTcp);
  return { profile, leg, ice, release: releaser(leg, () => deps.ports.free(port, 'single')) };
}

/** A browser leg's port: UDP, and with ICE-TCP the same port number on TCP too — both or neither
 *  (a TCP port taken by another process rejects with EADDRINUSE, so the allocator tries the next). */
async function bindBrowserPort(address: string, port: number, iceTcp: boolean): Promise<{ udp: dgram.Socket; tcp?: net.Server }> {
  const udp = await bindUdp(address, port);
  if (!iceTcp) return { udp };
  try {
    return { udp, tcp: await listenTcp(address, port) };
  } catch (err) {
    await closeUdp(udp);
    throw err;
  }
}

/** Close the sockets, then give the ports back; once. */
function releaser(leg: { close(): Promise<void> }, free: () => void): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= leg.close().finally(free);
    return done;
  };
}
