import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, splitHostPort } from '../../../gateway/config/load.js';

describe('media.engine', () => {
  it('defaults to the embedded engine', () => {
    expect(parseConfig({}, 'x.yaml').media.engine).toBe('embedded');
  });

  it('accepts rtpengine with its ng socket', () => {
    const cfg = parseConfig({ media: { engine: 'rtpengine', rtpengine: '127.0.0.1:2223' } }, 'x.yaml');
    expect(cfg.media.engine).toBe('rtpengine');
    expect(splitHostPort(cfg.media.rtpengine!)).toEqual({ host: '127.0.0.1', port: 2223 });
  });

  it('requires media.rtpengine with engine rtpengine, and rejects unknown engines', () => {
    const problems = (input: unknown): string[] => {
      try {
        parseConfig(input, 'x.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems({ media: { engine: 'rtpengine' } }).some((p) => p.startsWith('media.rtpengine:') && p.includes('required'))).toBe(true);
    expect(problems({ media: { engine: 'freeswitch' } }).some((p) => p.startsWith('media.engine:'))).toBe(true);
    expect(problems({ media: { engine: 'rtpengine', rtpengine: 'nohost' } }).some((p) => p.startsWith('media.rtpengine:'))).toBe(true);
  });
});
