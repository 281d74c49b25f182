import { describe, expect, it } from 'vitest';
import { callLabel, formatDuration, normaliseTarget, registrationLabel, statusReason } from '../../../web/reasons.js';

describe('web/reasons', () => {
  it('names common SIP failures with their code', () => {
    expect(statusReason(486, 'Busy Here')).toBe('Busy (486)');
    expect(statusReason(404, 'Not Found')).toBe('No route (404)');
    expect(statusReason(408, 'Request Timeout')).toBe('Request Timeout (408)');
    expect(statusReason(401, 'Unauthorized')).toBe('Wrong user or password (401)');
  });

  it('falls back to the reason phrase, then to "Failed"', () => {
    expect(statusReason(499, 'Odd Thing')).toBe('Odd Thing (499)');
    expect(statusReason(499, '  ')).toBe('Failed (499)');
    expect(statusReason(499)).toBe('Failed (499)');
    expect(statusReason(Number.NaN)).toBe('Failed');
    expect(statusReason(99)).toBe('Failed');
  });

  it('formats call durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65_400)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(-5)).toBe('0:00');
  });

  it('normalises dialled numbers and rejects bad ones with a reason', () => {
    expect(normaliseTarget(' +1 (555) 010-0001 ')).toBe('+15550100001');
    expect(normaliseTarget('*43')).toBe('*43');
    expect(() => normaliseTarget('   ')).toThrow('Enter a number to call');
    expect(() => normaliseTarget('1@evil.example')).toThrow(/only digits/);
    expect(() => normaliseTarget('1'.repeat(65))).toThrow(/too long/);
  });

  it('labels registration and call states for the user', () => {
    expect(registrationLabel('registered', '', 'alice@127.0.0.1')).toBe('Registered as alice@127.0.0.1');
    expect(registrationLabel('failed', 'Wrong user or password (401)', 'a@b')).toBe(
      'Registration failed: Wrong user or password (401)',
    );
    expect(callLabel('ringing', '', '5551234')).toBe('Ringing 5551234…');
    expect(callLabel('ended', 'Busy (486)', '5551234')).toBe('Call ended: Busy (486)');
    expect(callLabel('in-call', '', '*43')).toBe('In call with *43');
  });

  it('labels an established call by its connection first, then our hold, then the other party’s', () => {
    const d = (hold: string, remoteHold: boolean, link: string) => ({ hold, remoteHold, link });
    expect(callLabel('in-call', '', '1002', d('active', false, 'up'))).toBe('In call with 1002');
    expect(callLabel('in-call', '', '1002', d('held', true, 'reconnecting'))).toBe('Reconnecting…');
    expect(callLabel('in-call', '', '1002', d('active', false, 'restarting'))).toBe('Reconnecting…');
    expect(callLabel('in-call', '', '1002', d('held', true, 'up'))).toBe('On hold');
    expect(callLabel('in-call', '', '1002', d('holding', false, 'up'))).toBe('Putting on hold…');
    expect(callLabel('in-call', '', '1002', d('resuming', true, 'up'))).toBe('Resuming…');
    expect(callLabel('in-call', '', '1002', d('active', true, 'up'))).toBe('On hold by other party');
    // Detail only matters while in a call.
    expect(callLabel('ended', 'Connection lost', '1002', d('held', true, 'reconnecting'))).toBe('Call ended: Connection lost');
  });
});
