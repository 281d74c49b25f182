import { describe, expect, it } from 'vitest';
import { accountLine, parseAudioDebug, parseCallStats, parseNetstrings } from '../../support/baresip.js';

describe('test/support/baresip parsers', () => {
  it('splits ctrl_tcp netstrings and keeps an incomplete tail', () => {
    const a = '{"event":true,"type":"CALL_ESTABLISHED"}';
    const b = '{"response":true}';
    const { messages, rest } = parseNetstrings(`${a.length}:${a},${b.length}:${b},12:{"resp`);
    expect(messages).toEqual([a, b]);
    expect(rest).toBe('12:{"resp');
  });

  it('throws on a corrupt stream', () => {
    expect(() => parseNetstrings('x1:a,')).toThrow(/bad length prefix/);
    expect(() => parseNetstrings('1:ab')).toThrow(/missing trailing/);
  });

  it('reads baresip rtp_stats summaries, one per ended call', () => {
    const out = [
      'audio: destroyed (started=1)',
      'audio           Transmit:     Receive:',
      'packets:            451          246',
      'avg. bitrate:      64.0         50.3  (kbit/s)',
      'noise',
      'audio           Transmit:     Receive:',
      'packets:             12            0',
    ].join('\n');
    expect(parseCallStats(out)).toEqual([
      { txPackets: 451, rxPackets: 246 },
      { txPackets: 12, rxPackets: 0 },
    ]);
    expect(parseCallStats('nothing here')).toEqual([]);
  });
});

describe('baresip audio_debug', () => {
  // Captured from baresip 1.0 in a call through the gateway (trimmed); a second member after a re-offer.
  const text = [
    '--- Audio stream ---',
    ' audio dir=recvonly pt_enc=0',
    ' local: 0.0.0.0:31894, remote: 127.0.0.1:40002/127.0.0.1:40003',
    '----- RTCP Session: -----',
    '  member 0x6452e3ef: lost=0 Jitter=0.0ms RTT=0.0ms',
    '                 IP=127.0.0.1:40002 psent=0 rcvd=102',
    '  member 0x11111111: lost=0 Jitter=0.0ms RTT=0.0ms',
    '                 IP=127.0.0.1:40002 psent=0 rcvd=7',
    '  TX: packets=108, octets=17280',
  ].join('\n');

  it('reads packets sent, packets received from every source, and the direction in force', () => {
    expect(parseAudioDebug(text)).toEqual({ txPackets: 108, rxPackets: 109, dir: 'recvonly' });
  });

  it('throws, quoting the text, when there is no audio stream', () => {
    expect(() => parseAudioDebug('no call')).toThrow(/no TX packets[^]*no call/);
  });
});

describe('baresip accounts line', () => {
  it('carries the display name as the caller ID of dialled calls, never registers, auto-answers', () => {
    expect(accountLine('5557777', 'Carrier Caller')).toBe('"Carrier Caller" <sip:5557777@127.0.0.1>;regint=0;answermode=auto');
    expect(accountLine('5551234')).toBe('<sip:5551234@127.0.0.1>;regint=0;answermode=auto');
  });
});
