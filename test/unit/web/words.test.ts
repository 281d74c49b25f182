import { describe, expect, it } from 'vitest';
import { bannerWords, endWords, isUserPeer, personName, shortEndWords } from '../../../web/words.js';

describe('web/words: people’s words, the SIP code only in the details', () => {
  it('names the other party', () => {
    expect(personName('bob')).toBe('Bob');
    expect(personName('5551234')).toBe('5551234');
    expect(personName('')).toBe('The other party');
    expect(isUserPeer('bob')).toBe(true);
    expect(isUserPeer('1002')).toBe(true);
    expect(isUserPeer('+4930123456')).toBe(false);
    expect(isUserPeer('004930123456')).toBe(false);
  });

  it('480 on a user call: "Bob is offline"; on a number outside: not available', () => {
    expect(endWords('Unavailable (480)', 'bob', { code: 480, phrase: 'Temporarily Unavailable' }))
      .toEqual({ text: 'Bob is offline', detail: 'SIP 480 Temporarily Unavailable' });
    expect(endWords('Unavailable (480)', '1002')).toEqual({ text: '1002 is offline', detail: 'SIP 480' });
    expect(endWords('Unavailable (480)', '+4930123456').text).toBe('+4930123456 is not available right now');
  });

  it('busy, not in service, declined, no answer, refused, incomplete', () => {
    expect(endWords('Busy (486)', 'bob', { code: 486, phrase: 'Busy Here' })).toEqual({ text: 'Bob is busy', detail: 'SIP 486 Busy Here' });
    expect(endWords('Busy everywhere (600)', '5551234').text).toBe('5551234 is busy');
    expect(endWords('No route (404)', '5550000', { code: 404, phrase: 'No Route' })).toEqual({ text: 'Number not in service', detail: 'SIP 404 No Route' });
    expect(endWords('Does not exist anywhere (604)', '5550000').text).toBe('Number not in service');
    expect(endWords('No route (404)', 'carol').text).toBe('There is no Carol here');
    expect(endWords('Declined (603)', 'bob').text).toBe('Bob declined the call');
    expect(endWords('Request Timeout (408)', 'bob').text).toBe('Bob did not answer');
    expect(endWords('Forbidden (403)', '+882123').text).toBe('You are not allowed to call this number');
    expect(endWords('Incomplete number (484)', '55').text).toBe('Incomplete number: check it and try again');
    expect(endWords('Service unavailable (503)', '5551234').text).toBe('The phone service is busy: try again in a minute');
  });

  it('an unknown code still gets words, never the bare code', () => {
    expect(endWords('Odd Thing (499)', 'bob', { code: 499, phrase: 'Odd Thing' })).toEqual({ text: 'The call could not be placed', detail: 'SIP 499 Odd Thing' });
    expect(endWords('Whatever (699)', 'bob').text).toBe('Bob cannot take the call');
  });

  it('endings without a code', () => {
    expect(endWords('Hung up', 'bob')).toEqual({ text: 'Call ended: Hung up', detail: '' });
    expect(endWords('Remote party hung up', 'bob').text).toBe('Bob hung up');
    expect(endWords('Connection lost', 'bob').text).toBe('The call dropped: the connection was lost');
    expect(endWords('Media failed: Permission denied', 'bob'))
      .toEqual({ text: 'Could not start the audio: check that the page may use your microphone', detail: 'Permission denied' });
    expect(endWords('Something new', 'bob')).toEqual({ text: 'Something new', detail: '' });
  });

  it('a few words for the call history', () => {
    expect(shortEndWords('Busy (486)', '5551234')).toBe('Busy');
    expect(shortEndWords('Unavailable (480)', 'bob')).toBe('Offline');
    expect(shortEndWords('Unavailable (480)', '+4930123')).toBe('Not available');
    expect(shortEndWords('No route (404)', '5550000')).toBe('Not in service');
    expect(shortEndWords('Bad gateway (502)', '5550000')).toBe('Service problem');
    expect(shortEndWords('Odd (499)', '5550000')).toBe('Failed');
    expect(shortEndWords('Hung up', 'bob')).toBe('Hung up');
    expect(shortEndWords('', 'bob')).toBe('');
  });

  it('the connection banner says what to do', () => {
    expect(bannerWords({ state: 'registered', reason: '', reconnecting: false, online: true })).toEqual({ level: 'ok', text: '' });
    expect(bannerWords({ state: 'signed-out', reason: '', reconnecting: false }).text).toBe('');
    expect(bannerWords({ state: 'failed', reason: 'Cannot reach the server (ws://x/sip)', reconnecting: false, online: false }).text).toMatch(/^You are offline\. .*check your Wi-Fi/);
    // registered although the browser says offline (a server on the LAN only): no false alarm
    expect(bannerWords({ state: 'registered', reason: '', reconnecting: false, online: false }).text).toBe('');
    const lost = bannerWords({ state: 'failed', reason: 'Connection to server lost', reconnecting: true });
    expect(lost.level).toBe('warn');
    expect(lost.text).toMatch(/Reconnecting…/);
    expect(bannerWords({ state: 'failed', reason: 'Connection to server lost', reconnecting: true, online: false }).text)
      .toMatch(/Reconnecting… .*this device seems to be offline: check your Wi-Fi or cable\.$/);
    expect(bannerWords({ state: 'failed', reason: 'Wrong user or password (401)', reconnecting: false }).text).toMatch(/check your user name and password/);
    expect(bannerWords({ state: 'failed', reason: 'Forbidden (403)', reconnecting: false }).text).toMatch(/check your user name and password/);
    expect(bannerWords({ state: 'failed', reason: 'Cannot reach the server (ws://x/sip)', reconnecting: false }).text).toMatch(/Check your internet connection/);
    expect(bannerWords({ state: 'failed', reason: 'Server error (500)', reconnecting: false }).text).toMatch(/Try again in a minute/);
  });
});
