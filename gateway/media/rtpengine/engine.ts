// MediaEngine backed by an external rtpengine (ng control protocol over UDP): the same contract as
// the embedded engine, so either can carry the gateway's calls.
import type { Logger } from '../../log.js';
import {
  MediaError,
  type AnswerRequest,
  type EchoRequest,
  type MediaEngine,
  type MediaStats,
  type OfferRequest,
  type SdpResult,
} from '../types.js';
import { answerCommand, deleteCommand, echoAnswerCommand, echoOfferCommand, offerCommand } from './flags.js';
import { NgClient, type NgAddress, type NgDict } from './ng-client.js';

export interface RtpengineOptions {
  address: NgAddress;
  logger: Logger;
  /** Milliseconds to wait for each ng reply (default 2000). */
  timeoutMs?: number;
  /** media.strictSource (default true): ng `strict source` (see flags.ts sourceFlags). */
  strictSource?: boolean;
}

function sdpOf(reply: NgDict, command: string): SdpResult {
  if (typeof reply.sdp !== 'string') throw new MediaError('bad-sdp', `rtpengine ${command}: reply without sdp`);
  return { sdp: reply.sdp };
}

class RtpengineMediaEngine implements MediaEngine {
  constructor(
    private readonly ng: NgClient,
    private readonly logger: Logger,
    private readonly strict: boolean,
  ) {}

  async offer(request: OfferRequest): Promise<SdpResult> {
    return sdpOf(await this.ng.request(offerCommand(request, this.strict)), 'offer');
  }

  async answer(request: AnswerRequest): Promise<SdpResult> {
    return sdpOf(await this.ng.request(answerCommand(request, this.strict)), 'answer');
  }

  async echo(request: EchoRequest): Promise<SdpResult> {
    const produced = sdpOf(await this.ng.request(echoOfferCommand(request, this.strict)), 'offer');
    try {
      return sdpOf(await this.ng.request(echoAnswerCommand(request, produced.sdp, this.strict)), 'answer');
    } catch (err) {
      await this.delete(request.callId);
      throw err;
    }
  }

  async delete(callId: string): Promise<void> {
    try {
      await this.ng.request(deleteCommand(callId));
    } catch (err) {
      // The contract: "Idempotent; unknown calls are ignored." rtpengine replies "Unknown call-id".
      if (err instanceof MediaError && err.code === 'unknown-call') return;
      this.logger.warn({ err, callId }, 'rtpengine delete failed');
    }
  }

  /** rtpengine keeps its counters; reading them takes an ng `query` round trip, which this
   *  synchronous call cannot make. */
  stats(_callId: string): MediaStats | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.ng.close();
  }
}

/** Connect to rtpengine's ng socket; rejects naming the address when it does not answer a ping. */
export async function createRtpengineMediaEngine(options: RtpengineOptions): Promise<MediaEngine> {
  const ng = new NgClient(options.address, options.timeoutMs ?? 2000, options.logger);
  try {
    await ng.request({ command: 'ping' });
  } catch (err) {
    ng.close();
    const where = `${options.address.host}:${options.address.port}`;
    throw new Error(`rtpengine at ${where} did not answer a ping: ${(err as Error).message}`, { cause: err });
  }
  options.logger.info({ address: options.address }, 'rtpengine media engine connected');
  return new RtpengineMediaEngine(ng, options.logger, options.strictSource ?? true);
}
