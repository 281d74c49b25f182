// A minimal client for rtpengine's ng control protocol: bencoded dictionaries over UDP, each
// message prefixed by a cookie ("<cookie> <bencode>"), the reply echoing the cookie.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

export type Bencodable = string | number | Bencodable[] | { [key: string]: Bencodable };

export function bencode(value: Bencodable): Buffer {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(value[k]!)]), Buffer.from('e')]);
}

export function bdecode(buf: Buffer): Bencodable {
  let i = 0;
  const next = (): Bencodable => {
    const c = String.fromCharCode(buf[i]!);
    if (c === 'i') {
      const end = buf.indexOf(0x65, i);
      const n = Number(buf.subarray(i + 1, end).toString());
      i = end + 1;
      return n;
    }
    if (c === 'l' || c === 'd') {
      i++;
      const items: Bencodable[] = [];
      while (buf[i] !== 0x65) items.push(next());
      i++;
      if (c === 'l') return items;
      const dict: Record<string, Bencodable> = {};
      for (let k = 0; k < items.length; k += 2) dict[String(items[k])] = items[k + 1]!;
      return dict;
    }
    const colon = buf.indexOf(0x3a, i);
    const len = Number(buf.subarray(i, colon).toString());
    const s = buf.subarray(colon + 1, colon + 1 + len).toString();
    i = colon + 1 + len;
    return s;
  };
  return next();
}

export class NgClient {
  private readonly socket = dgram.createSocket('udp4');
  private readonly pending = new Map<string, (reply: Record<string, Bencodable>) => void>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket.on('message', (msg) => {
      const space = msg.indexOf(0x20);
      const cookie = msg.subarray(0, space).toString();
      this.pending.get(cookie)?.(bdecode(msg.subarray(space + 1)) as Record<string, Bencodable>);
      this.pending.delete(cookie);
    });
  }

  request(command: Record<string, Bencodable>, timeoutMs = 2000): Promise<Record<string, Bencodable>> {
    const cookie = randomBytes(6).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cookie);
        reject(new Error(`rtpengine: no reply to ${String(command.command)}`));
      }, timeoutMs);
      this.pending.set(cookie, (reply) => {
        clearTimeout(timer);
        if (reply.result === 'ok' || reply.result === 'pong') resolve(reply);
        else reject(new Error(`rtpengine ${String(command.command)}: ${String(reply['error-reason'] ?? reply.result)}`));
      });
      this.socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(command)]), this.port, this.host);
    });
  }

  close(): void {
    this.socket.close();
  }
}
