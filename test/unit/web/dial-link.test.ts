// web/dial-link.js: tel: URIs (RFC 3966), ?call= and keyboard dialling; web/notify.js's pure parts.
import { describe, expect, it } from 'vitest';
import { callTarget, keyAction, telHandlerUrl, telNumber, withoutCallParam } from '../../../web/dial-link.js';
import { INCOMING_TAG, incomingNotification, shouldNotify } from '../../../web/notify.js';
import { rng } from '../../support/rng.js';

describe('web/dial-link: tel: and ?call=', () => {
  it('RFC 3966: visual separators ignored, parameters dropped, percent-encoding undone', () => {
    expect(telNumber('tel:+1-201-555-0123')).toBe('+12015550123');
    expect(telNumber('tel:+1.(201).555.0123;ext=7')).toBe('+12015550123');
    expect(telNumber('TEL:7042;phone-context=example.com')).toBe('7042');
    expect(telNumber('tel:%2B44%2020%207946%200000')).toBe('+442079460000');
    expect(telNumber('tel:*43')).toBe('*43');
    for (const bad of ['sip:alice@example.com', 'tel:', 'tel:abc', 'tel:%zz', 'tel:+1-555<script>', 'mailto:x']) expect(telNumber(bad), bad).toBe('');
  });

  it('?call= takes a number, a tel: URI (registerProtocolHandler\'s %s) or a user name', () => {
    expect(callTarget('?call=5551234')).toBe('5551234');
    expect(callTarget('?call=tel%3A%2B1-555-0100')).toBe('+15550100');
    expect(callTarget('?call=bob')).toBe('bob');
    expect(callTarget('?call=%2B44%20(20)%207946')).toBe('+44207946');
    expect(callTarget('?x=1&call=1002')).toBe('1002');
    for (const bad of ['', '?call=', '?call=%3Cimg%3E', '?call=a%40b.c', '?call=tel%3Ax', `?call=${'9'.repeat(65)}`]) expect(callTarget(bad), bad).toBe('');
  });

  it('the page URL without its call parameter; the tel: handler URL', () => {
    expect(withoutCallParam('http://127.0.0.1:8080/?call=1002')).toBe('http://127.0.0.1:8080/');
    expect(withoutCallParam('https://p.example/?a=1&call=1002#x')).toBe('https://p.example/?a=1#x');
    expect(telHandlerUrl('https://p.example')).toBe('https://p.example/?call=%s');
  });

  it('seeded mutation: callTarget never throws and gives only dialable strings', () => {
    const random = rng(90);
    const alphabet = '0123456789+*#-.() abz%3A%2Btel:;=&?@<>"\'\\/éü\u0000';
    for (let i = 0; i < 3000; i += 1) {
      let s = '?call=';
      for (let n = Math.floor(random() * 24); n > 0; n -= 1) s += alphabet[Math.floor(random() * alphabet.length)];
      const target = callTarget(s);
      expect(target === '' || /^[A-Za-z0-9.*#+_~-]{1,64}$/.test(target), s).toBe(true);
    }
  });
});

describe('web/dial-link: keyboard dialling', () => {
  const body = { tagName: 'BODY' };
  it('digits, *, #, + outside a field append; Backspace deletes; Enter dials', () => {
    expect(keyAction({ key: '7', target: body })).toEqual({ type: 'append', char: '7' });
    expect(keyAction({ key: '#', target: body })).toEqual({ type: 'append', char: '#' });
    expect(keyAction({ key: '+', target: null })).toEqual({ type: 'append', char: '+' });
    expect(keyAction({ key: 'Backspace', target: body })).toEqual({ type: 'backspace' });
    expect(keyAction({ key: 'Enter', target: body })).toEqual({ type: 'dial' });
    expect(keyAction({ key: 'a', target: body })).toBeNull();
  });

  it('keys in a field, Enter on a button, or with a modifier keep their meaning', () => {
    for (const tagName of ['INPUT', 'textarea', 'SELECT']) expect(keyAction({ key: '5', target: { tagName } }), tagName).toBeNull();
    // A focused button (a keypad key just clicked, Call): digits still dial, Enter presses the button.
    expect(keyAction({ key: '5', target: { tagName: 'BUTTON' } })).toEqual({ type: 'append', char: '5' });
    expect(keyAction({ key: 'Enter', target: { tagName: 'BUTTON' } })).toBeNull();
    expect(keyAction({ key: '5', target: { tagName: 'DIV', isContentEditable: true } })).toBeNull();
    expect(keyAction({ key: '5', ctrlKey: true, target: body })).toBeNull();
    expect(keyAction({ key: '5', altKey: true, target: body })).toBeNull();
    expect(keyAction({ key: '5', metaKey: true, target: body })).toBeNull();
  });
});

describe('web/notify: the incoming-call notification', () => {
  it('names the caller, carries Accept / Decline, one tag (a new call replaces it), the page URL', () => {
    const note = incomingNotification({ displayName: 'alice', number: '1001' }, '1001', 'http://p/');
    expect(note.title).toBe('Incoming call from alice (1001)');
    expect(note.options.tag).toBe(INCOMING_TAG);
    expect(note.options.actions?.map((a: { action: string }) => a.action)).toEqual(['accept', 'decline']);
    expect(note.options.requireInteraction).toBe(true);
    expect(note.options.data).toEqual({ url: 'http://p/' });
    expect(incomingNotification({ displayName: '', number: 'unknown' }, 'anonymous', '').title).toBe('Incoming call from anonymous');
    expect(incomingNotification(null, '', '').title).toBe('Incoming call from unknown caller');
  });

  it('only with permission, and only when the page is not in front', () => {
    expect(shouldNotify({ permission: 'granted', hidden: true, focused: false })).toBe(true);
    expect(shouldNotify({ permission: 'granted', hidden: false, focused: false })).toBe(true);
    expect(shouldNotify({ permission: 'granted', hidden: false, focused: true })).toBe(false);
    expect(shouldNotify({ permission: 'default', hidden: true, focused: false })).toBe(false);
    expect(shouldNotify({ permission: 'denied', hidden: true, focused: false })).toBe(false);
  });
});
