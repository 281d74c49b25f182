import { describe, expect, it } from 'vitest';
import { audioConstraints, deviceOptions, levelFromSamples } from '../../../web/devices.js';

describe('web/devices', () => {
  it('meter level: RMS in dBFS from −60 (0) to 0 (1)', () => {
    expect(levelFromSamples([])).toBe(0);
    expect(levelFromSamples(new Float32Array(256))).toBe(0);
    const full = Float32Array.from({ length: 480 }, (_, i) => (i % 2 ? 1 : -1)); // RMS 1 → 0 dBFS
    expect(levelFromSamples(full)).toBe(1);
    const sine = Float32Array.from({ length: 4800 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 48000));
    // RMS 0.3536 → −9.03 dBFS → (60 − 9.03) / 60 = 0.849
    expect(levelFromSamples(sine)).toBeCloseTo(0.849, 3);
    const quiet = Float32Array.from({ length: 480 }, (_, i) => (i % 2 ? 1e-4 : -1e-4)); // −80 dBFS
    expect(levelFromSamples(quiet)).toBe(0);
  });

  it('device lists: one kind, the default first, a name for unlabelled devices', () => {
    const devices = [
      { kind: 'audioinput', deviceId: 'a1', label: 'Fake Audio Input 1' },
      { kind: 'audiooutput', deviceId: 'default', label: 'Fake Default Audio Output' },
      { kind: 'audioinput', deviceId: 'default', label: 'Fake Default Audio Input' },
      { kind: 'videoinput', deviceId: 'v', label: 'cam' },
      { kind: 'audioinput', deviceId: 'communications', label: 'Communications' },
      { kind: 'audioinput', deviceId: 'a2', label: '' },
    ];
    expect(deviceOptions(devices, 'audioinput')).toEqual([
      { id: 'default', label: 'Fake Default Audio Input' },
      { id: 'a1', label: 'Fake Audio Input 1' },
      { id: 'a2', label: 'Microphone 3' },
    ]);
    expect(deviceOptions(devices, 'audiooutput')).toEqual([{ id: 'default', label: 'Fake Default Audio Output' }]);
  });

  it('constraints: the chosen microphone exactly; none chosen or no audio asked: unchanged', () => {
    expect(audioConstraints({ audio: true, video: false }, 'mic-2')).toEqual({ audio: { deviceId: { exact: 'mic-2' } }, video: false });
    expect(audioConstraints({ audio: { echoCancellation: true } }, 'm')).toEqual({ audio: { echoCancellation: true, deviceId: { exact: 'm' } } });
    expect(audioConstraints({ audio: true }, '')).toEqual({ audio: true });
    expect(audioConstraints({ audio: false, video: false }, 'm')).toEqual({ audio: false, video: false });
  });
});
