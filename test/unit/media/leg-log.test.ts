// A leg's log lines through legLog (the call's logger with the leg's fields merged into each line) are the
// lines a pino child of the call's logger would write.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { legLog } from '../../../gateway/media/legs/leg-log.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = JSON.parse(chunk.toString()) as Record<string, unknown>;
      delete line.time;
      lines.push(line);
      done();
    },
  });
  const logger = pino({ level, serializers: { err: pino.stdSerializers.err } }, stream);
  return { logger: logger.child({ callId: 'c1' }), lines };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('legLog', () => {
  it('writes what a child with the same bindings writes: fields, order, message, error serialisation', async () => {
    const viaChild = capture('info');
    const viaFields = capture('info');
    const fields = { leg: 'webrtc', port: 30_000 };
    const child = viaChild.logger.child(fields);
    const leg = legLog(viaFields.logger, fields);
    for (const log of [child, leg]) {
      log.info({ to: { address: '192.0.2.1', port: 5000 } }, 'ICE-lite: browser address selected');
      log.warn({ err: new Error('boom') }, 'media socket error');
      log.info({}, 'ICE restart: new local credentials');
      log.debug({ n: 1 }, 'not written at info');
    }
    await flush();
    expect(viaFields.lines).toHaveLength(3);
    expect(JSON.stringify(viaFields.lines)).toBe(JSON.stringify(viaChild.lines));
    expect(Object.keys(viaFields.lines[0]!)).toEqual(['level', 'pid', 'hostname', 'callId', 'leg', 'port', 'to', 'msg']);
  });

  it('follows the call logger\'s level', async () => {
    const { logger, lines } = capture('warn');
    const leg = legLog(logger, { leg: 'rtp', port: 4000 });
    expect(leg.isLevelEnabled('info')).toBe(false);
    leg.info({ a: 1 }, 'dropped');
    logger.level = 'debug';
    expect(leg.isLevelEnabled('debug')).toBe(true);
    leg.debug({ a: 2 }, 'kept');
    await flush();
    expect(lines.map((l) => [l.msg, l.a, l.leg])).toEqual([['kept', 2, 'rtp']]);
  });
});
