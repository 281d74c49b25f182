import { describe, expect, it } from 'vitest';
import { Dialog, DialogError, DialogStore, IllegalDialogTransition } from '../../../gateway/sip/dialog/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';

const h = (name: string, value: string): HeaderField => ({ name, value });
const headerValues = (m: SipRequest, name: string) => m.headers.filter((x) => x.name === name).map((x) => x.value);
const header = (m: SipRequest, name: string) => headerValues(m, name)[0];

function invite(extra: HeaderField[] = [], uri = 'sip:bob@biloxi.example.com'): SipRequest {
  return {
    kind: 'request', method: 'INVITE', uri, version: 'SIP/2.0', body: Buffer.alloc(0),
    headers: [
      h('Via', 'SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds'),
      h('From', 'Alice <sip:alice@atlanta.example.com>;tag=1928301774'),
      h('To', 'Bob <sip:bob@biloxi.example.com>'),
      h('Call-ID', 'a84b4c76e66710@pc33'),
      h('CSeq', '314159 INVITE'),
      h('Contact', '<sip:alice@pc33.atlanta.example.com>'),
      ...extra,
    ],
  };
}

function response(status: number, extra: HeaderField[], toTag = 'a6c85cf'): SipResponse {
  return {
    kind: 'response', status, reason: 'X', version: 'SIP/2.0', body: Buffer.alloc(0),
    headers: [
      h('From', 'Alice <sip:alice@atlanta.example.com>;tag=1928301774'),
      h('To', toTag ? `Bob <sip:bob@biloxi.example.com>;tag=${toTag}` : 'Bob <sip:bob@biloxi.example.com>'),
      h('Call-ID', 'a84b4c76e66710@pc33'),
      h('CSeq', '314159 INVITE'),
      ...extra,
    ],
  };
}

function inDialog(method: string, cseq: number): SipRequest {
  return {
    kind: 'request', method, uri: 'sip:alice@pc33.atlanta.example.com', version: 'SIP/2.0', body: Buffer.alloc(0),
    headers: [
      h('From', '<sip:bob@biloxi.example.com>;tag=a6c85cf'),
      h('To', '<sip:alice@atlanta.example.com>;tag=1928301774'),
      h('Call-ID', 'a84b4c76e66710@pc33'),
      h('CSeq', `${cseq} ${method}`),
    ],
  };
}

const RR = [h('Record-Route', '<sip:p2.example.com;lr>, <sip:p1.example.com;lr>')];

describe('Dialog.fromUacResponse (§12.1.2)', () => {
  it('takes IDs, URIs, CSeq and the reversed Record-Route from the 2xx', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [...RR, h('Contact', '<sip:bob@192.0.2.4>')]));
    expect(d.id).toEqual({ callId: 'a84b4c76e66710@pc33', localTag: '1928301774', remoteTag: 'a6c85cf' });
    expect(d.state).toBe('confirmed');
    expect(d.localUri).toBe('sip:alice@atlanta.example.com');
    expect(d.remoteUri).toBe('sip:bob@biloxi.example.com');
    expect(d.localSeq).toBe(314159);
    expect(d.remoteSeq).toBeUndefined();
    expect(d.remoteTarget).toBe('sip:bob@192.0.2.4');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.secure).toBe(false);
  });

  it('a 18x creates an early dialog; the 2xx confirms it and recomputes the route set (§13.2.2.4)', () => {
    const d = Dialog.fromUacResponse(invite(), response(180, [h('Contact', '<sip:bob@192.0.2.4>')]));
    expect(d.state).toBe('early');
    expect(d.routeSet).toEqual([]);
    d.receiveResponse('INVITE', response(200, [...RR, h('Contact', '<sip:bob@192.0.2.9>')]));
    expect(d.state).toBe('confirmed');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:bob@192.0.2.9');
  });

  it('a non-2xx final response terminates the early dialog (§12.3)', () => {
    const d = Dialog.fromUacResponse(invite(), response(183, [h('Contact', '<sip:bob@192.0.2.4>')]));
    d.receiveResponse('INVITE', response(486, []));
    expect(d.state).toBe('terminated');
    expect(() => d.createRequest('BYE')).toThrow('dialog is terminated');
  });

  it('secure when the Request-URI is sips', () => {
    const d = Dialog.fromUacResponse(invite([], 'sips:bob@biloxi.example.com'), response(200, [h('Contact', '<sips:bob@b>')]));
    expect(d.secure).toBe(true);
  });

  it.each([
    [response(200, [h('Contact', '<sip:b@x>')], ''), 'response has no To tag'],
    [response(200, []), 'response has no Contact'],
    [response(100, [h('Contact', '<sip:b@x>')]), 'a 100 response does not create a dialog'],
    [response(200, [h('Contact', '<sip:b@x>'), h('Record-Route', '<sip:p1;lr')]), 'Bad Record-Route'],
  ])('refuses with a reason (%#)', (res, reason) => {
    expect(() => Dialog.fromUacResponse(invite(), res)).toThrow(DialogError);
    expect(() => Dialog.fromUacResponse(invite(), res)).toThrow(reason);
  });
});

describe('Dialog.fromUasRequest (§12.1.1)', () => {
  it('keeps Record-Route in order, remote target from the request Contact, local seq empty', () => {
    const d = Dialog.fromUasRequest(invite(RR), 'uas-tag', '<sip:gw@10.0.0.1:5060>');
    expect(d.id).toEqual({ callId: 'a84b4c76e66710@pc33', localTag: 'uas-tag', remoteTag: '1928301774' });
    expect(d.state).toBe('early');
    expect(d.localUri).toBe('sip:bob@biloxi.example.com');
    expect(d.remoteUri).toBe('sip:alice@atlanta.example.com');
    expect(d.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:alice@pc33.atlanta.example.com');
    expect(d.remoteSeq).toBe(314159);
    expect(d.localSeq).toBeUndefined();
  });

  it('refuses a request without From tag or Contact', () => {
    const noTag = invite();
    noTag.headers = noTag.headers.map((x) => (x.name === 'From' ? h('From', '<sip:a@b>') : x));
    expect(() => Dialog.fromUasRequest(noTag, 't')).toThrow('request has no From tag');
    const noContact = invite();
    noContact.headers = noContact.headers.filter((x) => x.name !== 'Contact');
    expect(() => Dialog.fromUasRequest(noContact, 't')).toThrow('request has no Contact');
  });

  it('the first request we send picks an initial CSeq below 2^31, then increments by one', () => {
    const d = Dialog.fromUasRequest(invite(), 'uas-tag');
    d.transition('confirmed');
    const bye = d.createRequest('BYE');
    const seq = Number(header(bye, 'CSeq')!.split(' ')[0]);
    expect(seq).toBeGreaterThan(0);
    expect(seq).toBeLessThan(2 ** 31);
    expect(header(d.createRequest('INFO'), 'CSeq')).toBe(`${seq + 1} INFO`);
  });
});

describe('createRequest (§12.2.1.1)', () => {
  it('loose routing: Request-URI = remote target, Route = route set in order, tags, CSeq+1, no Via', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [...RR, h('Contact', '<sip:bob@192.0.2.4>')]));
    const bye = d.createRequest('BYE');
    expect(bye.method).toBe('BYE');
    expect(bye.uri).toBe('sip:bob@192.0.2.4');
    expect(headerValues(bye, 'Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(header(bye, 'From')).toBe('<sip:alice@atlanta.example.com>;tag=1928301774');
    expect(header(bye, 'To')).toBe('<sip:bob@biloxi.example.com>;tag=a6c85cf');
    expect(header(bye, 'Call-ID')).toBe('a84b4c76e66710@pc33');
    expect(header(bye, 'CSeq')).toBe('314160 BYE');
    expect(header(bye, 'Max-Forwards')).toBe('70');
    expect(header(bye, 'Via')).toBeUndefined();
    expect(header(bye, 'Contact')).toBeUndefined();
    expect(d.localSeq).toBe(314160);
    expect(d.nextHopUri()).toBe('sip:p1.example.com;lr');
  });

  it('no route set: no Route header and next hop = remote target', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [h('Contact', '<sip:bob@192.0.2.4:5070;transport=tcp>')]));
    const bye = d.createRequest('BYE');
    expect(bye.uri).toBe('sip:bob@192.0.2.4:5070;transport=tcp');
    expect(headerValues(bye, 'Route')).toEqual([]);
    expect(d.nextHopUri()).toBe('sip:bob@192.0.2.4:5070;transport=tcp');
  });

  it('strict routing: Request-URI = first route (stripped), remote target appended as last Route', () => {
    const rr = [h('Record-Route', '<sip:p2.example.com;lr>'), h('Record-Route', '<sip:p1.example.com;method=INVITE?X-a=b>')];
    const d = Dialog.fromUacResponse(invite(), response(200, [...rr, h('Contact', '<sip:bob@192.0.2.4>')]));
    expect(d.routeSet[0]).toBe('<sip:p1.example.com;method=INVITE?X-a=b>');
    const bye = d.createRequest('BYE');
    expect(bye.uri).toBe('sip:p1.example.com');
    expect(headerValues(bye, 'Route')).toEqual(['<sip:p2.example.com;lr>', '<sip:bob@192.0.2.4>']);
    expect(d.nextHopUri()).toBe('sip:p1.example.com;method=INVITE?X-a=b');
  });

  it('target refreshes carry our Contact, body gets Content-Type and Content-Length', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [h('Contact', '<sip:bob@192.0.2.4>')]));
    const sdp = Buffer.from('v=0\r\n');
    const reinvite = d.createRequest('INVITE', { body: sdp, contentType: 'application/sdp', headers: [h('Subject', 'x')] });
    expect(header(reinvite, 'Contact')).toBe('<sip:alice@pc33.atlanta.example.com>');
    expect(header(reinvite, 'Content-Type')).toBe('application/sdp');
    expect(header(reinvite, 'Content-Length')).toBe('5');
    expect(header(reinvite, 'Subject')).toBe('x');
    expect(reinvite.body).toBe(sdp);
    expect(header(d.createRequest('BYE', { contact: '<sip:me@h>' }), 'Contact')).toBe('<sip:me@h>');
    expect(() => d.createRequest('INFO', { body: sdp })).toThrow('a body needs a contentType');
  });

  it('refuses ACK and CANCEL', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [h('Contact', '<sip:bob@192.0.2.4>')]));
    expect(() => d.createRequest('ACK')).toThrow('createAck');
    expect(() => d.createRequest('cancel')).toThrow('not an in-dialog request');
    expect(d.localSeq).toBe(314159);
  });

  it('createAck uses the INVITE CSeq number and leaves the local sequence alone', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [...RR, h('Contact', '<sip:bob@192.0.2.4>')]));
    const ack = d.createAck(314159);
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe('sip:bob@192.0.2.4');
    expect(header(ack, 'CSeq')).toBe('314159 ACK');
    expect(headerValues(ack, 'Route')).toHaveLength(2);
    expect(d.localSeq).toBe(314159);
    expect(header(d.createRequest('BYE'), 'CSeq')).toBe('314160 BYE');
  });

  it('a 2xx to a re-INVITE refreshes the remote target; a 2xx to BYE does not', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [h('Contact', '<sip:bob@192.0.2.4>')]));
    d.receiveResponse('BYE', response(200, [h('Contact', '<sip:bob@192.0.2.5>')]));
    expect(d.remoteTarget).toBe('sip:bob@192.0.2.4');
    d.receiveResponse('INVITE', response(200, [h('Contact', '<sip:bob@192.0.2.6>')]));
    expect(d.remoteTarget).toBe('sip:bob@192.0.2.6');
  });
});

describe('receiveRequest (§12.2.2)', () => {
  it('sets an empty remote seq, accepts higher or equal, flags lower as out-of-order', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [h('Contact', '<sip:bob@192.0.2.4>')]));
    expect(d.receiveRequest(inDialog('INFO', 10))).toBe('ok');
    expect(d.remoteSeq).toBe(10);
    expect(d.receiveRequest(inDialog('INFO', 12))).toBe('ok');
    expect(d.receiveRequest(inDialog('INFO', 11))).toBe('out-of-order');
    expect(d.remoteSeq).toBe(12);
    expect(d.receiveRequest(inDialog('BYE', 13))).toBe('ok');
  });

  it('throws a DialogError (not a crash) for a malformed CSeq', () => {
    const d = Dialog.fromUasRequest(invite(), 't');
    const bad = inDialog('BYE', 1);
    bad.headers = bad.headers.map((x) => (x.name === 'CSeq' ? h('CSeq', 'abc BYE') : x));
    expect(() => d.receiveRequest(bad)).toThrow(DialogError);
    expect(() => d.receiveRequest(bad)).toThrow(/^Bad CSeq/);
  });
});

describe('state machine', () => {
  it('rejects illegal edges', () => {
    const d = Dialog.fromUacResponse(invite(), response(200, [h('Contact', '<sip:bob@192.0.2.4>')]));
    expect(() => d.transition('early')).toThrow(IllegalDialogTransition);
    d.transition('terminated');
    expect(() => d.transition('confirmed')).toThrow('illegal transition terminated -> confirmed');
  });
});

describe('DialogStore', () => {
  it('finds the dialog of an incoming request by swapping From/To tags, and of a response directly', () => {
    const store = new DialogStore();
    const d = Dialog.fromUacResponse(invite(), response(200, [h('Contact', '<sip:bob@192.0.2.4>')]));
    store.add(d);
    expect(store.findForRequest(inDialog('BYE', 1))).toBe(d);
    expect(store.findForResponse(response(200, []))).toBe(d);
    expect(store.findForResponse(response(200, [], 'other'))).toBeUndefined();
    expect(() => store.add(d)).toThrow('already stored');
    expect(store.delete(d.id)).toBe(true);
    expect(store.findForRequest(inDialog('BYE', 1))).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('a request without tags or with garbage headers matches nothing, without throwing', () => {
    const store = new DialogStore();
    store.add(Dialog.fromUasRequest(invite(), 'uas-tag'));
    expect(store.findForRequest(invite())).toBeUndefined();
    const garbage = inDialog('BYE', 1);
    garbage.headers = [h('From', '<sip:a'), h('To', 'x')];
    expect(store.findForRequest(garbage)).toBeUndefined();
  });
});
