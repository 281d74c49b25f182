import { describe, expect, it } from 'vitest';
import { getCSeq, getFrom, getHeader, getHeaderValues, getTopVia, parseMessage, parseUri, serializeMessage } from '../../../gateway/sip/message/index.js';
import { buildCancel, buildRequest, forwardedMaxForwards, localContact, reissueRequest, withVia } from '../../../gateway/sip/ua/request.js';
import { resolveTarget, TargetError } from '../../../gateway/sip/ua/target.js';
import { buildReply, optionsReply, validateRequest } from '../../../gateway/sip/ua/uas.js';
import { sip } from '../call/fakes.js';

const via = { transport: 'udp' as const, sentBy: { address: '127.0.0.1', port: 5070 } };

function inviteSpec() {
  return {
    method: 'INVITE',
    uri: parseUri('sip:5551234@trunk.invalid:5060'),
    from: { uri: parseUri('sip:alice@trunk.invalid'), params: {} },
    to: { uri: parseUri('sip:5551234@trunk.invalid'), params: {} },
    cseq: 1,
    via,
    contact: localContact(via),
    body: Buffer.from('v=0\r\n'),
  };
}

function invite() {
  return buildRequest(inviteSpec());
}

describe('buildRequest (RFC 3261 §8.1.1)', () => {
  it('has the mandatory headers, a From tag, a magic-cookie branch, rport and round-trips through the parser', () => {
    const req = parseMessage(serializeMessage(invite())) as ReturnType<typeof invite>;
    expect(getHeader(req, 'Max-Forwards')).toBe('70');
    expect(getFrom(req).params.tag).toMatch(/.{4,}/);
    const top = getTopVia(req)!;
    expect(top.transport).toBe('UDP');
    expect(top.host).toBe('127.0.0.1');
    expect(top.port).toBe(5070);
    expect(top.params.branch).toMatch(/^z9hG4bK/);
    expect('rport' in top.params).toBe(true);
    expect(getCSeq(req)).toEqual({ seq: 1, method: 'INVITE' });
    expect(getHeader(req, 'Call-ID')).toBeTruthy();
    expect(getHeader(req, 'Contact')).toBe('<sip:gateway@127.0.0.1:5070>');
    expect(getHeader(req, 'Content-Type')).toBe('application/sdp');
  });

  it('puts transport=tcp on a TCP Contact', () => {
    expect(localContact({ transport: 'tcp', sentBy: via.sentBy }).uri.params.transport).toBe('tcp');
  });
});

describe('reissueRequest and buildCancel', () => {
  it('re-originates with a new branch and CSeq, same Call-ID and From tag (§22.2)', () => {
    const first = invite();
    const again = reissueRequest(first, 2, [{ name: 'Proxy-Authorization', value: 'Digest x' }]);
    expect(getCSeq(again)).toEqual({ seq: 2, method: 'INVITE' });
    expect(getTopVia(again)!.params.branch).not.toBe(getTopVia(first)!.params.branch);
    expect(getHeader(again, 'Call-ID')).toBe(getHeader(first, 'Call-ID'));
    expect(getFrom(again).params.tag).toBe(getFrom(first).params.tag);
    expect(getHeader(again, 'Proxy-Authorization')).toBe('Digest x');
  });

  it('builds a CANCEL with the INVITE top Via, Request-URI, tags and CSeq number (§9.1)', () => {
    const inv = invite();
    const cancel = buildCancel(inv);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uri).toBe(inv.uri);
    expect(getHeaderValues(cancel, 'Via')).toEqual([getHeaderValues(inv, 'Via')[0]]);
    expect(getCSeq(cancel)).toEqual({ seq: 1, method: 'CANCEL' });
    expect(getHeader(cancel, 'From')).toBe(getHeader(inv, 'From'));
    expect(getHeader(cancel, 'To')).toBe(getHeader(inv, 'To'));
    expect(cancel.body.length).toBe(0);
  });

  it('withVia puts a fresh Via on top', () => {
    const req = withVia(invite(), { transport: 'ws', sentBy: { address: '::1', port: 80 } });
    expect(getHeaderValues(req, 'Via')[0]).toMatch(/^SIP\/2\.0\/WS \[::1\]:80;branch=z9hG4bK/);
  });
});

const base = (method: string, uri = 'sip:bob@gw.invalid', extra = '') =>
  sip(`${method} ${uri} SIP/2.0
    Via: SIP/2.0/WS c.invalid;branch=z9hG4bKabc
    Max-Forwards: 70
    From: <sip:alice@gw.invalid>;tag=1
    To: <sip:bob@gw.invalid>
    Call-ID: x
    CSeq: 1 ${method}
    ${extra || 'X-A: 1'}`);

describe('validateRequest (RFC 3261 §8.2)', () => {
  it('accepts an ordinary INVITE', () => {
    expect(validateRequest(base('INVITE'))).toBeUndefined();
  });
  it('405 with Allow for an unknown method', () => {
    const r = validateRequest(base('SUBSCRIBE'))!;
    expect(r.status).toBe(405);
    expect(r.headers[0]!.name).toBe('Allow');
    expect(r.headers[0]!.value.split(', ')).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK']));
  });
  it('416 for an unsupported Request-URI scheme', () => {
    expect(validateRequest(base('INVITE', 'mailto:bob@example.com'))!.status).toBe(416);
  });
  it('420 with Unsupported listing the unknown option tags (100rel is ours, RFC 3262)', () => {
    const r = validateRequest(base('INVITE', undefined, 'Require: 100rel, foo'))!;
    expect(r.status).toBe(420);
    expect(r.headers).toEqual([{ name: 'Unsupported', value: 'foo' }]);
    expect(validateRequest(base('INVITE', undefined, 'Require: 100rel'))).toBeUndefined();
  });
  it('483 when Max-Forwards is 0, except for OPTIONS', () => {
    const zero = (m: string) => {
      const req = base(m);
      req.headers = req.headers.map((h) => (h.name === 'Max-Forwards' ? { ...h, value: '0' } : h));
      return req;
    };
    expect(validateRequest(zero('INVITE'))!.status).toBe(483);
    expect(validateRequest(zero('OPTIONS'))).toBeUndefined();
  });
});

describe('Max-Forwards across the B2BUA (RFC 7332 §3.2)', () => {
  const withMaxForwards = (value: string | undefined) => {
    const req = base('INVITE');
    req.headers = req.headers.filter((h) => h.name !== 'Max-Forwards');
    if (value !== undefined) req.headers.push({ name: 'Max-Forwards', value });
    return req;
  };
  it('forwards the received value less one: 70 → 69, 1 → 0; absent → 70', () => {
    expect(forwardedMaxForwards(withMaxForwards('70'))).toBe(69);
    expect(forwardedMaxForwards(withMaxForwards('1'))).toBe(0);
    expect(forwardedMaxForwards(withMaxForwards('255'))).toBe(254);
    expect(forwardedMaxForwards(withMaxForwards(undefined))).toBe(70);
  });
  it('buildRequest writes the forwarded value, 70 when none is given', () => {
    const forwarded = buildRequest({ ...inviteSpec(), maxForwards: 0 });
    expect(getHeaderValues(forwarded, 'Max-Forwards')).toEqual(['0']);
    expect(getHeaderValues(buildRequest(inviteSpec()), 'Max-Forwards')).toEqual(['70']);
  });
});

describe('responses', () => {
  it('adds a To tag to final responses but not to 100', () => {
    const req = base('INVITE');
    expect(buildReply(req, 486, 'Busy Here').headers.find((h) => h.name === 'To')!.value).toMatch(/;tag=/);
    expect(buildReply(req, 100, 'Trying').headers.find((h) => h.name === 'To')!.value).not.toMatch(/;tag=/);
    expect(buildReply(req, 180, 'Ringing', { toTag: 'abc' }).headers.find((h) => h.name === 'To')!.value).toMatch(/;tag=abc$/);
  });
  it('answers OPTIONS with 200 and Allow (§11.2)', () => {
    const res = optionsReply(base('OPTIONS'));
    expect(res.status).toBe(200);
    expect(getHeader(res, 'Allow')).toContain('INVITE');
    expect(getHeader(res, 'Accept')).toBe('application/sdp');
  });
});

describe('resolveTarget (RFC 3263, simplified)', () => {
  const never = async (): Promise<string> => {
    throw new Error('looked up');
  };
  it('uses a numeric host as is, default port 5060 over UDP', async () => {
    expect(await resolveTarget(parseUri('sip:1@127.0.0.1'), never)).toEqual({ address: '127.0.0.1', port: 5060, transport: 'udp' });
  });
  it('honours the transport parameter and the port', async () => {
    expect(await resolveTarget(parseUri('sip:1@127.0.0.1:5099;transport=TCP'), never)).toEqual({ address: '127.0.0.1', port: 5099, transport: 'tcp' });
  });
  it('strips IPv6 brackets; sips defaults to TLS on 5061', async () => {
    expect(await resolveTarget(parseUri('sips:[::1]'), never)).toEqual({ address: '::1', port: 5061, transport: 'tls' });
  });
  it('looks names up with the A lookup', async () => {
    expect(await resolveTarget(parseUri('sip:trunk.example.com'), async (h) => (h === 'trunk.example.com' ? '127.0.0.2' : '0.0.0.0'))).toMatchObject({ address: '127.0.0.2' });
  });
  it('never looks up .invalid names, and reports lookup failures as TargetError', async () => {
    await expect(resolveTarget(parseUri('sip:x@abc.invalid'), never)).rejects.toBeInstanceOf(TargetError);
    await expect(resolveTarget(parseUri('sip:x@nowhere.example'), never)).rejects.toThrow(/cannot resolve/);
  });
  it('rejects unknown transports and non-SIP schemes', async () => {
    await expect(resolveTarget(parseUri('sip:x@127.0.0.1;transport=sctp'), never)).rejects.toThrow(/unsupported transport/);
    await expect(resolveTarget(parseUri('tel:+15551234'), never)).rejects.toThrow(/cannot route/);
  });
});
