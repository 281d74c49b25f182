// TLS keys of the configuration and what the gateway derives from them (no sockets; temp files only).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, parseSipListen } from '../../../gateway/config/load.js';
import { trunkTlsPeers } from '../../../gateway/http/tls.js';
import { createTestPki, type TestPki } from '../../support/tls.js';
import { configProblems as problems } from '../config/problems.js';

describe('TLS configuration', () => {
  let pki: TestPki;
  let dir: string;
  beforeAll(() => {
    pki = createTestPki('config');
    dir = mkdtempSync(join(tmpdir(), 'tls-config-'));
  });
  afterAll(() => {
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts "tls:host:port" listening points only with http.tls (their certificate)', () => {
    expect(problems({ sip: { listen: ['tls:127.0.0.1:5061'] } })).toEqual(['sip.listen[0]: a tls listening point needs http.tls (its certificate and key)']);
    expect(problems({ sip: { listen: ['tls:127.0.0.1:5061'] }, http: { tls: { cert: 'c.pem', key: 'k.pem' } } })).toEqual([]);
    expect(problems({ sip: { listen: ['wss:127.0.0.1:5061'] } })[0]).toMatch(/^sip\.listen\[0\]: expected "udp\|tcp\|tls:host:port"/);
    expect(parseSipListen('tls:[::1]:5061')).toEqual({ transport: 'tls', address: '::1', port: 5061 });
  });

  it('trunks[].tls: verify defaults to true; unknown keys are refused', () => {
    const cfg = parseConfig({ trunks: [{ name: 't', uri: 'sip:a;transport=tls', tls: {} }] }, 'x.yaml');
    expect(cfg.trunks[0]!.tls).toEqual({ verify: true });
    expect(problems({ trunks: [{ name: 't', uri: 'sip:a', tls: { cafile: 'x' } }] })).toEqual(['trunks[0].tls: unknown key "cafile"']);
  });

  it('resolves trunks[].tls.ca and http.tls relative to the config file', () => {
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, 'http:\n  tls: { cert: c.pem, key: k.pem }\ntrunks:\n  - name: t\n    uri: "sip:a;transport=tls"\n    tls: { ca: certs/ca.pem }\n');
    const cfg = loadConfigFile(file);
    expect(cfg.trunks[0]!.tls?.ca).toBe(join(dir, 'certs', 'ca.pem'));
    expect(cfg.http.tls).toEqual({ cert: join(dir, 'c.pem'), key: join(dir, 'k.pem') });
  });

  it('derives one TLS peer per TLS trunk (transport=tls or sips:, default port 5061) with its CA', () => {
    const trunks = parseConfig(
      {
        trunks: [
          { name: 'udp', uri: 'sip:udp.example.com' },
          { name: 'tls', uri: 'sip:pbx.example.com;transport=tls', tls: { ca: pki.caCert } },
          { name: 'sips', uri: 'sips:[2001:db8::1]:5071', tls: { verify: false } },
        ],
      },
      'x.yaml',
    ).trunks;
    expect(trunkTlsPeers(trunks)).toEqual([
      { host: 'pbx.example.com', port: 5061, verify: true, ca: pki.ca },
      { host: '2001:db8::1', port: 5071, verify: false },
    ]);
  });

  it('names trunks[i].tls.ca and the file when the CA cannot be used', () => {
    const notCert = join(dir, 'not-cert.pem');
    writeFileSync(notCert, pki.key);
    const trunk = (ca: string) => parseConfig({ trunks: [{ name: 'u', uri: 'sip:a' }, { name: 't', uri: 'sip:a;transport=tls', tls: { ca } }] }, 'x.yaml').trunks;
    expect(() => trunkTlsPeers(trunk(join(dir, 'missing.pem')))).toThrow(/^trunks\[1\]\.tls\.ca: .*missing\.pem: cannot read/);
    expect(() => trunkTlsPeers(trunk(notCert))).toThrow(/^trunks\[1\]\.tls\.ca: .*not-cert\.pem: not a valid certificate/);
  });
});
