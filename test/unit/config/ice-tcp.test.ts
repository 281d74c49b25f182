// media.iceTcp: ICE-TCP on browser legs (RFC 6544). Unset means on with the embedded engine; the
// rtpengine engine has no ICE-TCP, so an explicit true with it is refused naming the key.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { configProblems } from './problems.js';

describe('media.iceTcp', () => {
  it('is unset by default (the embedded engine turns it on) and takes true/false', () => {
    expect(parseConfig({}, 'x.yaml').media.iceTcp).toBeUndefined();
    expect(parseConfig({ media: { iceTcp: false } }, 'x.yaml').media.iceTcp).toBe(false);
    expect(parseConfig({ media: { iceTcp: true } }, 'x.yaml').media.iceTcp).toBe(true);
  });

  it('must be a boolean', () => {
    expect(configProblems({ media: { iceTcp: 'yes' } }).some((p) => p.startsWith('media.iceTcp:'))).toBe(true);
  });

  it('with media.engine rtpengine: true is refused naming the key; false or unset is accepted', () => {
    const rtpengine = { engine: 'rtpengine', rtpengine: '127.0.0.1:2223' };
    const problems = configProblems({ media: { ...rtpengine, iceTcp: true } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^media\.iceTcp: .*embedded media engine only/);
    expect(configProblems({ media: { ...rtpengine, iceTcp: false } })).toEqual([]);
    expect(configProblems({ media: rtpengine })).toEqual([]);
  });
});
