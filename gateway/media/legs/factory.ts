// Opening a leg of either profile: ports from the allocator, sockets bound on the media address.
import type { Logger } from 'pino';
import type { DtlsCertificate } from '../dtls/certificate.js';
import type { PortAllocator } from '../ports.js';
import type { MediaProfile } from '../types.js';
import { bindUdp, bindUdpPair } from '../udp.js';
import { createIceLiteAgent, type IceLiteAgent } from './ice-lite.js';
import { RtpLeg } from './rtp-leg.js';
import { WebrtcLeg } from './webrtc-leg.js';

export interface LegDeps {
  ports: PortAllocator;
  bindAddress: string;
  certificate: DtlsCertificate;
  logger: Logger;
  /** media.strictSource: plain RTP legs take media only from the peer's expected address. */
  strictSource: boolean;
}

export type OpenLeg =
  | { profile: 'rtp'; leg: RtpLeg; release: () => Promise<void> }
  | { profile: 'webrtc'; leg: WebrtcLeg; ice: IceLiteAgent; release: () => Promise<void> };

export async function openLeg(profile: MediaProfile, deps: LegDeps, logger: Logger): Promise<OpenLeg> {
  if (profile === 'rtp') {
    const { port, value } = await deps.ports.allocate('even-pair', (p) => bindUdpPair(deps.bindAddress, p));
    const leg = new RtpLeg(port, value[0], value[1], logger.child({ leg: 'rtp', port }), deps.strictSource);
    return { profile, leg, release: releaser(leg, () => deps.ports.free(port, 'even-pair')) };
  }
  const { port, value } = await deps.ports.allocate('single', (p) => bindUdp(deps.bindAddress, p));
  const ice = createIceLiteAgent();
  const leg = new WebrtcLeg(port, value, ice, deps.certificate, logger.child({ leg: 'webrtc', port }));
  return { profile, leg, ice, release: releaser(leg, () => deps.ports.free(port, 'single')) };
}

/** Close the sockets, then give the ports back; once. */
function releaser(leg: { close(): Promise<void> }, free: () => void): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= leg.close().finally(free);
    return done;
  };
}
