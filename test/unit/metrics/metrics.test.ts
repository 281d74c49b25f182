// Metrics pieces without a network: bounded labels, the operator access rule, SIP counters observed
// around a fake transport and transaction layer (retransmissions = the same message object sent again,
// Timer B/F timeouts), the exposition parsing strictly, and the strict parser refusing what the format
// forbids.
import { describe, expect, it } from 'vitest';
import { bearerMatches, isLoopback, operatorAccess } from '../../../gateway/http/access.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createMetrics } from '../../../gateway/metrics/index.js';
import { codeLabel, methodLabel, trunkLabel } from '../../../gateway/metrics/labels.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import type { ClientTransactionHandlers, TransactionLayer } from '../../../gateway/sip/transaction/types.js';
import type { Flow, SipTransport } from '../../../gateway/sip/transport/types.js';
import { parsePrometheusText, PromParseError, sampleValue } from '../../support/metrics-text.js';

const request = (method: string): SipRequest => ({ kind: 'request', method, uri: 'sip:x@example.com', version: 'SIP/2.0', headers: [{ name: 'CSeq', value: `1 ${method}` }], body: Buffer.alloc(0) }) as SipRequest;
const response = (status: number, method: string): SipResponse => ({ kind: 'response', status, reason: 'x', version: 'SIP/2.0', headers: [{ name: 'CSeq', value: `1 ${method}` }], body: Buffer.alloc(0) }) as SipResponse;

function fakeTransport(): SipTransport & { deliver(m: SipMessage): void } {
  let handler: ((m: SipMessage, f: Flow) => void) | undefined;
  return {
    send: async () => ({}) as Flow,
    sendResponse: async () => undefined,
    onMessage: (h) => void (handler = h),
    localAddress: () => ({ address: '127.0.0.1', port: 5060 }),
    close: async () => undefined,
    deliver: (m) => handler?.(m, {} as Flow),
  };
}

describe('metric labels', () => {
  it('methods, codes and trunks are bounded', () => {
    expect(methodLabel('INVITE')).toBe('INVITE');
    expect(methodLabel('XYZZY')).toBe('OTHER');
    expect(methodLabel(undefined)).toBe('OTHER');
    expect(codeLabel(486)).toBe('486');
    expect(codeLabel(499)).toBe('4xx');
    expect(codeLabel(42)).toBe('other');
    expect(trunkLabel(new Set(['carrier']), 'carrier')).toBe('carrier');
    expect(trunkLabel(new Set(['carrier']), 'evil"trunk')).toBe('none');
    expect(trunkLabel(new Set(['carrier']), null)).toBe('none');
  });
});

describe('operator access (/metrics, /api/cdrs)', () => {
  it('without api.token: loopback only', () => {
    for (const a of ['127.0.0.1', '127.0.100.9', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:192.0.2.1', '2001:db8::1', undefined, '']) expect(isLoopback(a)).toBe(false);
    expect(operatorAccess(undefined, '127.0.0.1', undefined)).toBeUndefined();
    expect(operatorAccess(undefined, '192.0.2.7', 'Bearer anything')).toMatchObject({ status: 403 });
  });

  it('with api.token: the bearer token from anywhere, loopback included', () => {
    const token = 'a-long-enough-token-123';
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer  ${token} `, token)).toBe(true);
    for (const h of [undefined, '', token, `Basic ${token}`, `Bearer ${token}x`, 'Bearer ']) expect(bearerMatches(h, token)).toBe(false);
    expect(operatorAccess(token, '192.0.2.7', `Bearer ${token}`)).toBeUndefined();
    expect(operatorAccess(token, '127.0.0.1', undefined)).toMatchObject({ status: 401 });
  });
});

describe('SIP counters', () => {
  it('messages in and out by method and code; the same object sent again is a retransmission; timeouts', async () => {
    const metrics = createMetrics(parseConfig({}, 'test'));
    const raw = fakeTransport();
    const t = metrics.observeTransport(raw);
    const got: SipMessage[] = [];
    t.onMessage((m) => void got.push(m));
    const invite = request('INVITE');
    await t.send(invite, { transport: 'udp', address: '127.0.0.1', port: 5070 });
    await t.send(invite, { transport: 'udp', address: '127.0.0.1', port: 5070 });
    await t.sendResponse(response(200, 'BYE'), {} as Flow);
    raw.deliver(response(180, 'INVITE'));
    raw.deliver(request('FOO'));
    expect(got).toHaveLength(2);
    expect(t.localAddress('udp')).toEqual({ address: '127.0.0.1', port: 5060 });

    let handlers: ClientTransactionHandlers | undefined;
    const layer = { sendRequest: (_r: SipRequest, _d: unknown, h: ClientTransactionHandlers) => ((handlers = h), {}), close: () => undefined } as unknown as TransactionLayer;
    let timedOut = 0;
    metrics.observeTransactions(layer).sendRequest(request('OPTIONS'), {} as Flow, { onResponse: () => undefined, onTimeout: () => void timedOut++, onTransportError: () => undefined });
    handlers!.onTimeout();
    expect(timedOut).toBe(1);

    const m = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(m, 'webphone_sip_requests_total', { direction: 'out', method: 'INVITE' })).toBe(2);
    expect(sampleValue(m, 'webphone_sip_retransmissions_total', { kind: 'request', method: 'INVITE' })).toBe(1);
    expect(sampleValue(m, 'webphone_sip_responses_total', { direction: 'out', method: 'BYE', code: '200' })).toBe(1);
    expect(sampleValue(m, 'webphone_sip_responses_total', { direction: 'in', method: 'INVITE', code: '180' })).toBe(1);
    expect(sampleValue(m, 'webphone_sip_requests_total', { direction: 'in', method: 'OTHER' })).toBe(1);
    expect(sampleValue(m, 'webphone_sip_transaction_timeouts_total', { method: 'OPTIONS' })).toBe(1);
    metrics.authFailed('REGISTER', 'wrong-password');
    metrics.authFailed('HTTP', 'made-up');
    metrics.banned();
    const n = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(n, 'webphone_auth_failures_total', { method: 'REGISTER', reason: 'wrong-password' })).toBe(1);
    expect(sampleValue(n, 'webphone_auth_failures_total', { method: 'HTTP', reason: 'other' })).toBe(1);
    expect(sampleValue(n, 'webphone_bans_total')).toBe(1);
  });
});

describe('the strict Prometheus text parser', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\na_total{x="q\\"\\\\\\n"} 1e3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n';

  it('reads a well-formed exposition', () => {
    const m = parsePrometheusText(ok);
    expect(sampleValue(m, 'a_total', { x: 'q"\\\n' })).toBe(1000);
    expect(m.get('h')!.type).toBe('histogram');
  });

  it('refuses what the format forbids', () => {
    const bad = [
      ok.slice(0, -1), // no final newline
      'a_total 1\n', // no TYPE
      '# TYPE a counter\na -1\n', // negative counter
      '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', // series twice
      '# TYPE a gauge\na{x=1} 1\n', // unquoted value
      '# TYPE a gauge\na{1x="1"} 1\n', // bad label name
      '# TYPE a gauge\na{x="\\t"} 1\n', // bad escape
      '# TYPE a gauge\na one\n', // bad value
      '# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n', // a's samples away from its TYPE
      '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n', // family split
      '# TYPE a wibble\na 1\n', // unknown type
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', // count differs
    ];
    for (const text of bad) expect(() => parsePrometheusText(text), JSON.stringify(text)).toThrow(PromParseError);
  });
});

describe('metrics read from the status at scrape time', () => {
  it('registrations by transport, trunk state and counters, policy counters; unknown trunks left out; counters only grow', async () => {
    const metrics = createMetrics(parseConfig({ trunks: [{ name: 'carrier', uri: 'sip:192.0.2.1' }, { name: 'backup', uri: 'sip:192.0.2.2' }] }, 'test'));
    const calls = { current: 2, attempts: 10, answered: 7, failovers: 1, failed: 2, skippedDown: 3, skippedLimit: 0 };
    const status = {
      trunks: [
        { name: 'carrier', keepalive: { state: 'up' }, calls },
        { name: 'backup', state: 'registered', keepalive: { state: 'down' }, calls: { ...calls, current: 0, attempts: 1 } },
        { name: 'made-up', keepalive: { state: 'up' }, calls },
      ],
      policy: { refused: { classes: 2, 'trunks.maxCalls': 1 }, emergencyCalls: 1, maxDurationEnded: 0, spendAlarms: { user: 1, total: 0 } },
    };
    const regs: Record<string, number> = { ws: 3, udp: 1 };
    metrics.attach({ service: { status: () => status, registrationsByTransport: () => regs } });
    const m = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(m, 'webphone_registrations', { transport: 'ws' })).toBe(3);
    expect(sampleValue(m, 'webphone_registrations', { transport: 'udp' })).toBe(1);
    expect(sampleValue(m, 'webphone_trunk_up', { trunk: 'carrier', state: 'up' })).toBe(1);
    expect(sampleValue(m, 'webphone_trunk_up', { trunk: 'carrier', state: 'down' })).toBe(0);
    expect(sampleValue(m, 'webphone_trunk_up', { trunk: 'backup', state: 'down' })).toBe(1);
    expect(sampleValue(m, 'webphone_trunk_registered', { trunk: 'backup' })).toBe(1);
    expect(sampleValue(m, 'webphone_trunk_calls_active', { trunk: 'carrier' })).toBe(2);
    expect(sampleValue(m, 'webphone_trunk_attempts_total', { trunk: 'carrier', outcome: 'skipped_down' })).toBe(3);
    expect(sampleValue(m, 'webphone_policy_refusals_total', { rule: 'trunks_max_calls' })).toBe(1);
    expect(sampleValue(m, 'webphone_policy_spend_alarms_total', { scope: 'user' })).toBe(1);
    expect(sampleValue(m, 'webphone_policy_emergency_calls_total')).toBe(1);
    for (const f of m.values()) for (const s of f.samples) expect(s.labels.trunk).not.toBe('made-up');

    // Two more attempts and one user gone: the counter grows by 2, the gauge follows.
    calls.attempts = 12;
    regs.ws = 2;
    const n = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(n, 'webphone_trunk_attempts_total', { trunk: 'carrier', outcome: 'attempts' })).toBe(12);
    expect(sampleValue(n, 'webphone_registrations', { transport: 'ws' })).toBe(2);
  });
});
