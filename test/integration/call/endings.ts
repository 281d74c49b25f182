// The rig of the call-ending integration tests (liveness.test.ts, ports-freed.test.ts): SIPp as the trunk
// (keep-alive off: an OPTIONS would be an unexpected message to its scenario), a WsSipClient as the
// browser, and the gateway's embedded engine whose real sockets (openSockets) are read.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig } from '../../../gateway/config/schema.js';
import type { SocketCounts } from '../../../gateway/media/types.js';
import type { SipMessage } from '../../../gateway/sip/message/types.js';
import { until } from '../../support/netbed/wait.js';
import { freeSipPort, freeUdpPortPair } from '../../support/ports.js';
import { SCENARIO_DIR, startSipp, type SippHandle } from '../../support/sipp.js';
import { traceHeader } from '../../support/sipp-trace.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { gatewayConfig, startGatewayWith, USER, type TestGateway } from './harness.js';

const traceDir = mkdtempSync(join(tmpdir(), 'call-endings-'));

export interface EndingRig {
  gw: TestGateway;
  client: WsSipClient;
  sipp: SippHandle;
  close(): Promise<void>;
}

export interface EndingOptions {
  /** calls.reconnectGrace, s (default 30). */
  grace?: number;
  /** media.inactivityTimeout, s (default 0: off, so that only the test that wants it sees it). */
  inactivity?: number;
  ringTimeout?: number;
  /** SIPp -set globals (hangup_ms …). */
  set?: Record<string, number>;
  /** RFC 4028 session interval toward trunks, s (Min-SE half of it; below RFC 4028's 90 s: tests only). */
  sessionInterval?: number;
}

export const NO_SOCKETS: SocketCounts = { udp: 0, tcpListeners: 0, tcpConnections: 0 };

function configFor(trunkPort: number, o: EndingOptions): GatewayConfig {
  const base = gatewayConfig({ trunkUri: `sip:127.0.0.1:${trunkPort}`, ringTimeout: o.ringTimeout });
  return {
    ...base,
    trunks: base.trunks.map((t) => ({ ...t, keepalive: false as const })),
    calls: {
      ...base.calls,
      reconnectGrace: o.grace ?? 30,
      ...(o.sessionInterval ? { sessionTimers: { ...base.calls.sessionTimers, interval: o.sessionInterval, minSE: o.sessionInterval / 2 } } : {}),
    },
    media: { ...base.media, inactivityTimeout: o.inactivity ?? 0 },
  };
}

/** SIPp running `scenario` (a file of test/support/sipp/) as the trunk, the gateway, a browser connected
 *  over WebSocket. */
export async function endingRig(scenario: string, o: EndingOptions = {}): Promise<EndingRig> {
  const trunkPort = await freeSipPort();
  const media = await freeUdpPortPair();
  const scenarioFile = join(SCENARIO_DIR, `${scenario}.xml`);
  const sipp = startSipp({ scenarioFile, localPort: trunkPort, mediaPort: media.rtp, traceDir, set: o.set, keys: { auth_realm: 'trunk.test' } });
  let gw: TestGateway | undefined;
  let client: WsSipClient | undefined;
  const close = async () => {
    await client?.close().catch(() => undefined);
    await gw?.close().catch(() => undefined);
    await sipp.stop();
  };
  try {
    await sipp.ready;
    gw = await startGatewayWith(configFor(trunkPort, o));
    client = await WsSipClient.connect({ url: gw.wsUrl, user: USER.name, password: USER.password });
    return { gw, client, sipp, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits until the engine holds no socket at all (every port of every call freed). */
export async function allPortsFreed(gw: TestGateway, timeoutMs = 5_000): Promise<SocketCounts> {
  const same = (a: SocketCounts) => a.udp === 0 && a.tcpListeners === 0 && a.tcpConnections === 0;
  return until('every media socket to close', () => (same(gw.engine.openSockets()) ? gw.engine.openSockets() : undefined), timeoutMs);
}

const isBye = (m: SipMessage) => m.kind === 'request' && m.method === 'BYE';

/** The BYE SIPp received (it answers it and its scenario ends), waited for. */
export async function trunkBye(sipp: SippHandle, timeoutMs: number): Promise<SipMessage> {
  const bye = () => sipp.messages().find((e) => e.direction === 'received' && isBye(e.message))?.message;
  return until('SIPp to receive BYE', bye, timeoutMs);
}

export const reasonOf = (m: SipMessage): string | undefined => traceHeader(m, 'Reason');
