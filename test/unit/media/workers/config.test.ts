// media.workers in the config (gateway/config/schema.ts): 'auto' by default, 0 or a count; an explicit count
// whose share of media.rtpPorts would be under 50 ports is refused at start, naming media.workers.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../gateway/config/load.js';

describe('media.workers config', () => {
  it('defaults to auto; takes 0 and counts', () => {
    expect(parseConfig({}, 'test').media.workers).toBe('auto');
    expect(parseConfig({ media: { workers: 0 } }, 'test').media.workers).toBe(0);
    expect(parseConfig({ media: { workers: 4, rtpPorts: '20000-20999' } }, 'test').media.workers).toBe(4);
  });

  it('refuses a count that leaves a worker under 50 ports, and anything but auto or a count', () => {
    expect(() => parseConfig({ media: { workers: 3, rtpPorts: '20000-20099' } }, 'test')).toThrow(/media\.workers[\s\S]*3 workers would get 33 ports/);
    expect(() => parseConfig({ media: { workers: 2, rtpPorts: '20000-20099' } }, 'test')).not.toThrow();
    expect(() => parseConfig({ media: { workers: 'many' } }, 'test')).toThrow(/media\.workers/);
    expect(() => parseConfig({ media: { workers: -1 } }, 'test')).toThrow(/media\.workers/);
  });
});
