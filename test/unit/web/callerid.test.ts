import { describe, expect, it } from 'vitest';
import { callerIdOf, callerLabel, cancelOutcome, numberOfUri, parseNameAddr, splitHeaderValues } from '../../../web/callerid.js';

describe('web/callerid: parsing', () => {
  it('splits header values on commas outside quotes and <>', () => {
    expect(splitHeaderValues('"Doe, John" <sip:1@h>, <tel:+1555;x=a,b>')).toEqual(['"Doe, John" <sip:1@h>', '<tel:+1555;x=a,b>']);
    expect(splitHeaderValues('  ')).toEqual([]);
  });

  it('takes the number from sip:, sips: and tel: URIs, unescaping it', () => {
    expect(numberOfUri('sip:+15550100@gw.example;user=phone')).toBe('+15550100');
    expect(numberOfUri('sips:alice:secret@h')).toBe('alice');
    expect(numberOfUri('tel:+1-555-0100;phone-context=x')).toBe('+1-555-0100');
    expect(numberOfUri('sip:12%23@h')).toBe('12#');
    expect(numberOfUri('sip:gw.example')).toBe('');
    expect(numberOfUri('http://x')).toBe('');
  });

  it('parses quoted, token and missing display names, and bare addr-specs', () => {
    expect(parseNameAddr('"Alice \\"A\\" Smith" <sip:1001@gw>;tag=abc')).toEqual({ displayName: 'Alice "A" Smith', number: '1001', uri: 'sip:1001@gw' });
    expect(parseNameAddr('Bob <sip:1002@gw>')?.displayName).toBe('Bob');
    expect(parseNameAddr('<sip:5551234@127.0.0.1>;tag=1')).toMatchObject({ displayName: '', number: '5551234' });
    expect(parseNameAddr('sip:5551234@127.0.0.1;tag=1')).toMatchObject({ displayName: '', number: '5551234' });
  });

  it('returns null for values without a usable URI instead of throwing', () => {
    for (const bad of ['', 'garbage', '"x" <sip:unterminated', '<mailto:a@b>']) expect(parseNameAddr(bad)).toBeNull();
  });
});

describe('web/callerid: who is calling', () => {
  it('uses From when there is no P-Asserted-Identity', () => {
    expect(callerIdOf({ from: '"Carrier Caller" <sip:5557777@127.0.0.1>;tag=9' })).toEqual({ number: '5557777', displayName: 'Carrier Caller' });
  });

  it('prefers P-Asserted-Identity (its tel: value when both are given) over From (RFC 3325)', () => {
    const id = callerIdOf({
      from: '"Spoofed" <sip:anonymous@anonymous.invalid>;tag=1',
      pai: '"Real Name" <sip:+15550199@carrier>, <tel:+15550199>',
    });
    expect(id).toEqual({ number: '+15550199', displayName: 'Real Name' });
  });

  it('keeps From’s display name when the asserted identity has none', () => {
    expect(callerIdOf({ from: 'Alice <sip:alice@gw>', pai: '<sip:1001@gw>' })).toEqual({ number: '1001', displayName: 'Alice' });
  });

  it('says unknown for nothing usable', () => {
    expect(callerIdOf({})).toEqual({ number: 'unknown', displayName: '' });
    expect(callerIdOf({ from: 'junk', pai: 'junk' })).toEqual({ number: 'unknown', displayName: '' });
  });

  it('labels name and number', () => {
    expect(callerLabel({ number: '5557777', displayName: 'Carrier Caller' })).toBe('Carrier Caller (5557777)');
    expect(callerLabel({ number: '5557777', displayName: '' })).toBe('5557777');
    expect(callerLabel({ number: 'unknown', displayName: 'Alice' })).toBe('Alice');
    expect(callerLabel({ number: 'alice', displayName: 'alice' })).toBe('alice');
  });
});

describe('web/callerid: CANCEL reason (RFC 3326)', () => {
  it('cause=200 means answered elsewhere, not missed', () => {
    expect(cancelOutcome('SIP;cause=200;text="Call completed elsewhere"')).toEqual({ outcome: 'answered-elsewhere', text: 'Call completed elsewhere' });
    expect(cancelOutcome('sip ; cause=200')).toEqual({ outcome: 'answered-elsewhere', text: 'Answered elsewhere' });
    expect(cancelOutcome('Q.850;cause=16, SIP;cause=200')).toMatchObject({ outcome: 'answered-elsewhere' });
  });

  it('no Reason, another cause, or only a Q.850 reason means missed', () => {
    expect(cancelOutcome(undefined)).toEqual({ outcome: 'missed', text: 'Not answered' });
    expect(cancelOutcome('')).toEqual({ outcome: 'missed', text: 'Not answered' });
    expect(cancelOutcome('SIP;cause=487;text="Request Terminated"')).toEqual({ outcome: 'missed', text: 'Request Terminated' });
    expect(cancelOutcome('Q.850;cause=200')).toEqual({ outcome: 'missed', text: 'Not answered' });
    expect(cancelOutcome('SIP;cause=2000')).toMatchObject({ outcome: 'missed' });
  });
});
