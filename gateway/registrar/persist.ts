// Keeping UDP/TCP bindings across restarts: a JSON file, written atomically (temp file + rename) after
// each change (debounced) and on close, read back at start. WebSocket bindings are never written: they
// die with their connection, and browsers re-register when they reconnect.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { parseUri } from '../sip/message/index.js';
import { isWebSocket } from './bindings.js';
import type { Binding } from './types.js';

const FORMAT = 'sip-gateway-registrations';
const VERSION = 1;

const storedBinding = z.object({
  user: z.string().min(1),
  contact: z.string().min(1),
  transport: z.enum(['udp', 'tcp', 'tls']),
  source: z.object({ address: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  instance: z.string().optional(),
  expiresAt: z.number().finite(),
  callId: z.string(),
  cseq: z.number().int().nonnegative(),
});

const storeFile = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  bindings: z.array(z.unknown()),
});

type StoredBinding = z.infer<typeof storedBinding>;

function toStored(b: Binding): StoredBinding {
  const { user, contactText, source, instance, expiresAt, callId, cseq } = b;
  return { user, contact: contactText, transport: b.transport as StoredBinding['transport'], source, instance, expiresAt, callId, cseq };
}

function fromStored(s: StoredBinding): Binding {
  const contact = parseUri(s.contact); // throws SipParseError on a bad URI: the entry is skipped
  const { user, transport, source, instance, expiresAt, callId, cseq } = s;
  return { user, contact, contactText: s.contact, transport, source, instance, expiresAt, callId, cseq };
}

/** Serialized store content for the bindings that outlive a restart. */
export function serializeBindings(bindings: Binding[]): string {
  const kept = bindings.filter((b) => !isWebSocket(b.transport)).map(toStored);
  return `${JSON.stringify({ format: FORMAT, version: VERSION, bindings: kept }, null, 2)}\n`;
}

/** Read the store: unexpired, well-formed bindings. A missing file is an empty store; an unreadable or
 *  corrupt one is logged with its name and ignored (never a crash); a bad entry is skipped. */
export function loadBindings(file: string, now: number, logger: Logger): Binding[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') logger.info({ file }, 'no registration store yet: starting empty');
    else logger.warn({ file, err: (err as Error).message }, 'registration store unreadable: starting empty');
    return [];
  }
  let entries: unknown[];
  try {
    entries = storeFile.parse(JSON.parse(text)).bindings;
  } catch (err) {
    logger.warn({ file, err: (err as Error).message.slice(0, 200) }, 'registration store corrupt: starting empty');
    return [];
  }
  const out: Binding[] = [];
  for (const entry of entries) {
    try {
      const b = fromStored(storedBinding.parse(entry));
      if (b.expiresAt > now) out.push(b);
    } catch (err) {
      logger.warn({ file, err: (err as Error).message.slice(0, 200) }, 'registration store: bad entry skipped');
    }
  }
  logger.info({ file, bindings: out.length, dropped: entries.length - out.length }, 'registrations loaded');
  return out;
}

/** Writes the store after changes, at most once per `delayMs`; flush() writes now if anything changed. */
export class StoreWriter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dirty = false;
  private last: string | undefined;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => Binding[],
    private readonly logger: Logger,
    private readonly delayMs = 100,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.delayMs);
    this.timer.unref?.();
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    const text = serializeBindings(this.snapshot());
    if (text === this.last) return;
    if (this.write(text)) this.last = text;
  }

  /** Atomic replace: a crash mid-write leaves the old file intact (rename(2) is atomic on one filesystem). */
  private write(text: string): boolean {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.file);
      return true;
    } catch (err) {
      this.logger.error({ file: this.file, err: (err as Error).message }, 'cannot write the registration store');
      try {
        rmSync(tmp, { force: true });
      } catch {
        // the temp file may be unremovable for the same reason it was unwritable; the error is logged
      }
      return false;
    }
  }
}
