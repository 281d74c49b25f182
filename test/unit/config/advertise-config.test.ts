// Validation of the advertised-address keys: sip.listen's object form, sip.advertise, http.advertise,
// media.advertiseAddress. Every error names the key.
import { describe, expect, it } from 'vitest';
import { parseConfig, parseSipListen } from '../../../gateway/config/load.js';
import { configProblems as problems } from './problems.js';

describe('advertised-address config', () => {
  it('accepts the string and the object form side by side, and parses both', () => {
    const cfg = parseConfig(
      { sip: { listen: ['udp:0.0.0.0:5060', { listen: 'tcp:0.0.0.0:5060', advertise: '203.0.113.10:5070' }, { listen: 'udp:[::]:5062', advertise: '[2001:db8::1]' }] } },
      'test.yaml',
    );
    expect(cfg.sip.listen.map(parseSipListen)).toEqual([
      { transport: 'udp', address: '0.0.0.0', port: 5060 },
      { transport: 'tcp', address: '0.0.0.0', port: 5060, advertise: { address: '203.0.113.10', port: 5070 } },
      { transport: 'udp', address: '::', port: 5062, advertise: { address: '2001:db8::1' } },
    ]);
  });

  it('names the key of a bad per-point advertise, a bad listen inside the object form, and unknown keys', () => {
    expect(problems({ sip: { listen: ['udp:127.0.0.1:5060', { listen: 'udp:0.0.0.0:5060', advertise: 'not a host' }] } })).toEqual([
      'sip.listen[1].advertise: expected host or host:port, e.g. "203.0.113.10" or "203.0.113.10:5060"',
    ]);
    expect(problems({ sip: { listen: [{ listen: 'udp:0.0.0.0', advertise: '203.0.113.10' }] } })).toEqual([
      'sip.listen[0].listen: expected "udp|tcp|tls:host:port", e.g. "udp:127.0.0.1:5060"',
    ]);
    expect(problems({ sip: { listen: [{ listen: 'udp:0.0.0.0:5060', advertize: '203.0.113.10' }] } })).toEqual(['sip.listen[0]: unknown key "advertize"']);
    expect(problems({ sip: { listen: [42] } })).toEqual(['sip.listen[0]: expected "udp|tcp|tls:host:port" or { listen, advertise }']);
  });

  it('refuses a wildcard as advertise, wherever it is given', () => {
    const wildcard = 'a wildcard (0.0.0.0, ::) cannot be advertised: name the address peers reach';
    expect(problems({ sip: { listen: [{ listen: 'udp:0.0.0.0:5060', advertise: '0.0.0.0:5060' }] } })).toEqual([`sip.listen[0].advertise: ${wildcard}`]);
    expect(problems({ sip: { advertise: '::' } })).toEqual([`sip.advertise: ${wildcard}`]);
    expect(problems({ http: { advertise: '[::]:8443' } })).toEqual([`http.advertise: ${wildcard}`]);
    expect(problems({ media: { address: '0.0.0.0', advertiseAddress: '0.0.0.0' } })).toEqual([`media.advertiseAddress: ${wildcard}`]);
  });

  it('sip.advertise is a host only (each point advertises its own bound port); http.advertise may carry a port', () => {
    expect(problems({ sip: { advertise: '203.0.113.10:5060' } })).toEqual(['sip.advertise: expected host, e.g. "203.0.113.10"']);
    expect(problems({ sip: { advertise: 'sip.example.com' }, http: { advertise: 'phone.example.com:443' } })).toEqual([]);
    expect(problems({ http: { advertise: 'phone.example.com:99999' } })).toEqual([
      'http.advertise: expected host or host:port, e.g. "203.0.113.10" or "203.0.113.10:5060"',
    ]);
  });

  it('the tls check sees the object form too', () => {
    expect(problems({ sip: { listen: [{ listen: 'tls:0.0.0.0:5061', advertise: '203.0.113.10' }] } })).toEqual([
      'sip.listen[0]: a tls listening point needs http.tls (its certificate and key)',
    ]);
  });
});
