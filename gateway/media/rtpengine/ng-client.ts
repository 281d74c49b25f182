// A client for rtpengine's ng control protocol: each request is "<cookie> <bencoded dict>" in one
// UDP datagram, the reply echoes the cookie. A reply whose `result` is "error" carries
// `error-reason`; no reply within the timeout is an unavailable engine.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.js';
import { MediaError, type MediaErrorCode } from '../types.js';
import { bdecode, bencode, isDict, type Bencodable } from './bencode.js';

export type NgDict = { [key: string]: Bencodable };

export interface NgAddress {
  host: string;
  port: number;
}

/** Which MediaError an ng `error-reason` is (rtpengine's wording, e.g. "Unknown call-id"). */
export function mediaErrorCodeOf(reason: string): MediaErrorCode {
  if (/unknown call|call-id not found|unknown (from|to)-tag/i.test(reason)) return 'unknown-call';
  if (/session limit|no (free )?ports|out of ports|load limit|bandwidth limit|cpu/i.test(reason)) return 'no-ports';
  return 'bad-sdp';
}

/** Split "<cookie> <bencode>" into its parts; undefined for anything else. */
export function parseNgReply(msg: Buffer): { cookie: string; reply: NgDict } | undefined {
  const space = msg.indexOf(0x20);
  if (space <= 0) return undefined;
  try {
    const reply = bdecode(msg.subarray(space + 1));
    return isDict(reply) ? { cookie: msg.subarray(0, space).toString(), reply } : undefined;
  } catch {
    return undefined;
  }
}

interface Pending {
  resolve: (reply: NgDict) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class NgClient {
  private readonly socket = dgram.createSocket('udp4');
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(
    readonly address: NgAddress,
    private readonly timeoutMs = 2000,
    private readonly logger?: Logger,
  ) {
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.socket.on('error', (err) => this.logger?.warn({ err }, 'rtpengine ng socket error'));
  }

  private onMessage(msg: Buffer): void {
    const parsed = parseNgReply(msg);
    if (!parsed) {
      this.logger?.warn({ bytes: msg.length }, 'rtpengine: unparseable ng reply ignored');
      return;
    }
    const p = this.pending.get(parsed.cookie);
    if (!p) return; // a late reply to a request that timed out
    this.pending.delete(parsed.cookie);
    clearTimeout(p.timer);
    p.resolve(parsed.reply);
  }

  /** Send one command; resolves with the reply dict, whatever its `result` (see `request`). */
  send(command: NgDict, timeoutMs = this.timeoutMs): Promise<NgDict> {
    const where = `${this.address.host}:${this.address.port}`;
    if (this.closed) return Promise.reject(new MediaError('no-ports', `rtpengine ${where}: client closed`));
    const cookie = randomBytes(6).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cookie);
        reject(new MediaError('no-ports', `rtpengine ${where}: no reply to ${String(command.command)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(cookie, { resolve, reject, timer });
      const datagram = Buffer.concat([Buffer.from(`${cookie} `), bencode(command)]);
      this.socket.send(datagram, this.address.port, this.address.host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(cookie);
        reject(new MediaError('no-ports', `rtpengine ${where}: ${err.message}`));
      });
    });
  }

  /** Send one command; an ng error reply rejects with the MediaError it maps to. */
  async request(command: NgDict, timeoutMs = this.timeoutMs): Promise<NgDict> {
    const reply = await this.send(command, timeoutMs);
    if (reply.result === 'ok' || reply.result === 'pong') return reply;
    const reason = String(reply['error-reason'] ?? reply.result ?? 'no result');
    throw new MediaError(mediaErrorCodeOf(reason), `rtpengine ${String(command.command)}: ${reason}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [cookie, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new MediaError('no-ports', 'rtpengine client closed'));
      this.pending.delete(cookie);
    }
    this.socket.close();
  }
}
