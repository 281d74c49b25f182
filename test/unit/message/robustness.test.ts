// Bad input never crashes: random mutations of real messages either parse or raise SipParseError.
import { describe, expect, it } from 'vitest';
import {
  type SipMessage,
  SipParseError,
  StreamFramer,
  getContacts,
  getFrom,
  getTo,
  getVias,
  parseMessage,
  serializeMessage,
} from '../../../gateway/sip/message/index.js';
import { rng } from '../../support/rng.js';
import { requireFixtureDir, fixtureFiles, readFixture } from './fixtures.js';

const SPECIAL = Buffer.from('<>";,:@[]\\% \t\r\n=?&');

function mutate(src: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(src);
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const pos = Math.floor(rand() * out.length);
    out[pos] = rand() < 0.7 ? (SPECIAL[Math.floor(rand() * SPECIAL.length)] ?? 0) : Math.floor(rand() * 256);
  }
  return rand() < 0.2 ? out.subarray(0, Math.floor(rand() * out.length)) : out;
}

/** Run f; only SipParseError may escape. Returns the error kind for bookkeeping. */
function tolerant(f: () => void): 'ok' | 'rejected' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof SipParseError) return 'rejected';
    throw e;
  }
}

function exercise(m: SipMessage): void {
  getVias(m);
  getFrom(m);
  getTo(m);
  getContacts(m);
  parseMessage(serializeMessage(m));
}

describe('robustness against mangled input', () => {
  it('3000 random mutations of the RFC 4475 messages never throw anything but SipParseError', () => {
    const dir = requireFixtureDir('rfc4475');
    const rand = rng(4475);
    const sources = fixtureFiles(dir).map((f) => readFixture(dir, f));
    const seen = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      const input = mutate(sources[i % sources.length] ?? Buffer.alloc(0), rand);
      seen[tolerant(() => exercise(parseMessage(input)))]++;
      tolerant(() => new StreamFramer().push(input));
    }
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });
});
