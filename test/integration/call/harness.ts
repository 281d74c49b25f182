// A gateway for the call integration tests, wired by hand (transport + transactions + media + SIP
// service on an http.Server bound to 127.0.0.1:0) like buildGateway does, but with the SIP timers
// shortened where a test needs it (buildGateway takes no timer overrides).
import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSipService, type SipService } from '../../../gateway/call/index.js';
import { parsePortRange, parseSipListen } from '../../../gateway/config/load.js';
import { configSchema, type GatewayConfig } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine } from '../../../gateway/media/index.js';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { createTransactionLayer } from '../../../gateway/sip/transaction/index.js';
import type { TimerValues, TransactionLayer } from '../../../gateway/sip/transaction/types.js';
import { createTransport } from '../../../gateway/sip/transport/index.js';
import type { SipTransport } from '../../../gateway/sip/transport/types.js';

export const USER = { name: 'alice', password: 'alice-secret', callerId: '+15550001' };
export const TRUNK_CREDENTIALS = { username: 'gw-trunk', password: 'trunk-secret' };

export interface TestGatewayOptions {
  /** Trunk URI, e.g. sip:127.0.0.1:5099 */
  trunkUri: string;
  timers?: Partial<TimerValues>;
  ringTimeout?: number;
  rtpPorts?: string;
}

export interface TestGateway {
  config: GatewayConfig;
  wsUrl: string;
  service: SipService;
  close(): Promise<void>;
}

export function gatewayConfig(o: TestGatewayOptions): GatewayConfig {
  return configSchema.parse({
    sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
    media: { rtpPorts: o.rtpPorts ?? '41000-41999', address: '127.0.0.1' },
    users: [USER],
    trunks: [{ name: 'sipp', uri: o.trunkUri, ...TRUNK_CREDENTIALS }],
    routes: [
      { match: '^\\*43$', echo: true },
      { match: '^\\+?\\d{4,15}$', trunk: 'sipp' },
    ],
    calls: { ringTimeout: o.ringTimeout ?? 60 },
    log: { level: 'silent' },
  });
}

export async function startTestGateway(o: TestGatewayOptions): Promise<TestGateway> {
  const config = gatewayConfig(o);
  const logger = createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent');
  const server = new Server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let transport: SipTransport | undefined;
  let transactions: TransactionLayer | undefined;
  let media: MediaEngine | undefined;
  try {
    transport = await createTransport({
      listen: config.sip.listen.map(parseSipListen),
      ws: { server, path: '/sip' },
      logger: logger.child({ layer: 'transport' }),
    });
    transactions = createTransactionLayer({ transport, timers: o.timers, logger: logger.child({ layer: 'transaction' }) });
    media = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: parsePortRange(config.media.rtpPorts), logger: logger.child({ layer: 'media' }) });
    const service = startSipService({ config, transport, transactions, media, logger: logger.child({ layer: 'call' }) });
    const parts = { transport, transactions, media };
    return {
      config,
      wsUrl: `ws://127.0.0.1:${port}/sip`,
      service,
      async close() {
        await service.close();
        await parts.media.close();
        parts.transactions.close();
        await parts.transport.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  } catch (err) {
    await media?.close();
    transactions?.close();
    await transport?.close();
    server.close();
    throw err;
  }
}
