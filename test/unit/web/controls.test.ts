import { describe, expect, it } from 'vitest';
import { muteSenders, pageView } from '../../../web/controls.js';

describe('web/controls', () => {
  it('the page shows the call while it is placed, rings or is up; the ringing view for a lone incoming call; else the dial pad', () => {
    expect(pageView('idle', false)).toBe('idle');
    expect(pageView('ended', false)).toBe('idle');
    for (const s of ['calling', 'ringing', 'in-call']) expect(pageView(s, false)).toBe('in-call');
    expect(pageView('incoming', true)).toBe('ringing');
    expect(pageView('ended', true)).toBe('ringing');
    // call waiting: a call rings while another is up — the call's view stays (the incoming panel is in it)
    expect(pageView('in-call', true)).toBe('in-call');
  });

  it('mute disables every outgoing audio track (never video, never a missing track); unmute enables them', () => {
    const audio = { kind: 'audio', enabled: true };
    const video = { kind: 'video', enabled: true };
    const pc = { getSenders: () => [{ track: audio }, { track: video }, { track: null }] };
    muteSenders(pc, true);
    expect(audio.enabled).toBe(false);
    expect(video.enabled).toBe(true);
    muteSenders(pc, false);
    expect(audio.enabled).toBe(true);
    expect(() => muteSenders(null, true)).not.toThrow();
  });
});
