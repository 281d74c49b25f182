// A gateway for the call integration tests, wired by hand (transport + transactions + media + SIP
// service on an http.Server bound to 127.0.0.1:0) like buildGateway does, so that a test can read the
// media engine: every offer/answer the call layer makes is recorded (which media key each fork got),
// and stats() tells what the relay counted.
import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSipService, type SipService } from '../../../gateway/call/index.js';
import { parsePortRange, parseSipListen } from '../../../gateway/config/load.js';
import { configSchema, type GatewayConfig } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngineFor, type EmbeddedMediaEngine } from '../../../gateway/media/index.js';
import type { DtmfEngine } from '../../../gateway/media/dtmf/types.js';
import type { AnswerRequest, OfferRequest, SpliceableMediaEngine } from '../../../gateway/media/types.js';
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
  /** media.workers (default auto: one engine thread per core, as the gateway). */
  workers?: 'auto' | number;
}

export interface TestGateway {
  config: GatewayConfig;
  wsUrl: string;
  service: SipService;
  /** The embedded engine, recording the requests the call layer made. */
  media: RecordingMedia;
  /** The same engine unwrapped: its real sockets (openSockets) and liveness (media.inactivityTimeout). */
  engine: EmbeddedMediaEngine;
  /** Bound SIP address for UDP (host:port). */
  udp: string;
  /** Bound SIP address for TCP (host:port), '' when not listening on TCP. */
  tcp: string;
  close(): Promise<void>;
}

export interface RecordingMedia extends SpliceableMediaEngine, DtmfEngine {
  readonly offers: OfferRequest[];
  readonly answers: AnswerRequest[];
}

function recording(engine: EmbeddedMediaEngine): RecordingMedia {
  const offers: OfferRequest[] = [];
  const answers: AnswerRequest[] = [];
  return {
    offers,
    answers,
    answerLocally: (r) => engine.answerLocally(r),
    rollback: (r) => engine.rollback(r),
    splice: (r) => engine.splice(r),
    onInactive: (l) => engine.onInactive(l),
    sendDtmf: (r) => engine.sendDtmf(r),
    watchDtmf: (r, l) => engine.watchDtmf(r, l),
    offer: (r) => (offers.push(r), engine.offer(r)),
    answer: (r) => (answers.push(r), engine.answer(r)),
    echo: (r) => engine.echo(r),
    delete: (id) => engine.delete(id),
    stats: (id) => engine.stats(id),
    close: () => engine.close(),
  };
}

export function gatewayConfig(o: TestGatewayOptions): GatewayConfig {
  return configSchema.parse({
    sip: { listen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'] },
    media: { rtpPorts: o.rtpPorts ?? '41000-41999', address: '127.0.0.1', workers: o.workers ?? 'auto' },
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

export function startTestGateway(o: TestGatewayOptions): Promise<TestGateway> {
  return startGatewayWith(gatewayConfig(o), o.timers);
}

/** Starts the gateway for any parsed config (sip.listen should bind port 0). */
export async function startGatewayWith(config: GatewayConfig, timers?: Partial<TimerValues>): Promise<TestGateway> {
  const logger = createLogger(process.env.GATEWAY_TEST_LOG ?? 'silent');
  const server = new Server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let transport: SipTransport | undefined;
  let transactions: TransactionLayer | undefined;
  let media: RecordingMedia | undefined;
  let engine: EmbeddedMediaEngine | undefined;
  try {
    transport = await createTransport({
      listen: config.sip.listen.map(parseSipListen),
      ws: { server, path: '/sip' },
      logger: logger.child({ layer: 'transport' }),
    });
    transactions = createTransactionLayer({ transport, timers, logger: logger.child({ layer: 'transaction' }) });
    engine = await createEmbeddedMediaEngineFor(config.media.workers, {
      bindAddress: '127.0.0.1',
      portRange: parsePortRange(config.media.rtpPorts),
      inactivityTimeoutMs: config.media.inactivityTimeout * 1000,
      logger: logger.child({ layer: 'media' }),
    });
    media = recording(engine);
    const service = startSipService({ config, transport, transactions, media, logger: logger.child({ layer: 'call' }) });
    const parts = { transport, transactions, media };
    const udp = transport.localAddress('udp');
    const tcp = transport.localAddress('tcp');
    return {
      config,
      wsUrl: `ws://127.0.0.1:${port}/sip`,
      service,
      media,
      engine,
      udp: udp ? `${udp.address}:${udp.port}` : '',
      tcp: tcp ? `${tcp.address}:${tcp.port}` : '',
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
