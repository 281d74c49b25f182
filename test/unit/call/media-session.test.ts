import { describe, expect, it } from 'vitest';
import { MediaSession } from '../../../gateway/call/media-session.js';
import { createLogger } from '../../../gateway/log.js';
import { FakeMedia } from './fakes.js';

const logger = createLogger('silent');

describe('MediaSession (a call\'s media handle)', () => {
  it('sends its key with every request', async () => {
    const media = new FakeMedia();
    const s = new MediaSession(media, 'k1', logger);
    await s.offer({ fromTag: 'f', sdp: 'v=0\r\n', toProfile: 'rtp' });
    await s.answer({ fromTag: 'f', toTag: 't', sdp: 'v=0\r\n' });
    expect(media.calls.map((c) => (c.req as { callId: string }).callId)).toEqual(['k1', 'k1']);
  });

  it('close() deletes once however often it is called', () => {
    const media = new FakeMedia();
    const s = new MediaSession(media, 'k1', logger);
    s.close();
    s.close();
    expect(media.deleted).toEqual(['k1']);
    expect(s.isClosed).toBe(true);
  });

  it('a request that completes after close() frees what it allocated again', async () => {
    const media = new FakeMedia();
    const s = new MediaSession(media, 'k2', logger);
    const pending = s.echo({ fromTag: 'f', sdp: 'v=0\r\n' });
    s.close();
    await pending;
    expect(media.deleted).toEqual(['k2', 'k2']);
  });

  it('a request completing while open deletes nothing', async () => {
    const media = new FakeMedia();
    await new MediaSession(media, 'k3', logger).echo({ fromTag: 'f', sdp: 'v=0\r\n' });
    expect(media.deleted).toEqual([]);
  });
});
