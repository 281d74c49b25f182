// Audio devices of the page: which microphone a call uses (a media stream factory for sip.js, and
// RTCRtpSender.replaceTrack when it changes mid-call), which speaker plays the call (HTMLMediaElement
// setSinkId where the browser has it, W3C Audio Output Devices API), and a live input level meter
// (WebAudio AnalyserNode). The choices are kept in localStorage. The pure parts (levelFromSamples,
// deviceOptions, audioConstraints) are unit-tested (test/unit/web/devices.test.ts).

const MIC_KEY = 'webphone.mic';
const SPEAKER_KEY = 'webphone.speaker';

/**
 * The level of an audio frame for a meter: its RMS in dBFS mapped linearly from −60 dB (0) to 0 dB (1).
 * @param {ArrayLike<number>} samples float samples in [−1, 1]
 */
export function levelFromSamples(samples) {
  const n = samples.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (samples[i] ?? 0) ** 2;
  const rms = Math.sqrt(sum / n);
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/**
 * The options of a device list: one per device of `kind`, labelled (a device without a label — no
 * permission yet — gets "Microphone 2"), the "default" device first.
 * @param {ReadonlyArray<{ kind: string, deviceId: string, label: string }>} devices
 * @param {'audioinput' | 'audiooutput'} kind
 * @returns {Array<{ id: string, label: string }>}
 */
export function deviceOptions(devices, kind) {
  const noun = kind === 'audioinput' ? 'Microphone' : 'Speaker';
  const list = devices.filter((d) => d.kind === kind && d.deviceId !== 'communications');
  list.sort((a, b) => Number(b.deviceId === 'default') - Number(a.deviceId === 'default'));
  return list.map((d, i) => ({ id: d.deviceId, label: d.label || `${noun} ${i + 1}` }));
}

/**
 * getUserMedia constraints for a call's audio with the chosen microphone (none chosen: the default).
 * Video stays as sip.js asked (AUDIO_ONLY: false).
 * @param {{ audio?: unknown, video?: unknown }} constraints what sip.js asks for @param {string} micId
 */
export function audioConstraints(constraints, micId) {
  if (!constraints.audio) return constraints;
  if (!micId) return constraints;
  const base = typeof constraints.audio === 'object' && constraints.audio !== null ? constraints.audio : {};
  return { ...constraints, audio: { ...base, deviceId: { exact: micId } } };
}

/** @param {string} key */
function load(key) {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return ''; // storage disabled: the choice lasts for this page only
  }
}

/** @param {string} key @param {string} value */
function save(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage disabled
  }
}

/** The chosen microphone and speaker, and what acts on them. */
export class Devices extends EventTarget {
  constructor() {
    super();
    this.micId = load(MIC_KEY);
    this.speakerId = load(SPEAKER_KEY);
    /** The browser can choose where an audio element plays (setSinkId). */
    this.canChooseSpeaker = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  /** For sip.js's session description handler: the call's local audio, from the chosen microphone.
   *  A microphone that is gone (unplugged) falls back to the default one. */
  mediaStreamFactory() {
    return async (/** @type {MediaStreamConstraints} */ constraints) => {
      try {
        return await navigator.mediaDevices.getUserMedia(/** @type {MediaStreamConstraints} */ (audioConstraints(constraints, this.micId)));
      } catch (err) {
        if (!this.micId || /** @type {any} */ (err)?.name !== 'OverconstrainedError') throw err;
        return navigator.mediaDevices.getUserMedia(constraints);
      }
    };
  }

  /** The devices the browser offers now (labels appear once the page may use the microphone). */
  async list() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return { mics: deviceOptions(all, 'audioinput'), speakers: deviceOptions(all, 'audiooutput') };
  }

  /** Chooses the microphone; the calls in progress switch to it. @param {string} id
   *  @param {ReadonlyArray<RTCPeerConnection | null>} pcs the calls' peer connections */
  async setMic(id, pcs) {
    this.micId = id;
    save(MIC_KEY, id);
    for (const pc of pcs) if (pc && pc.connectionState !== 'closed') await this.#switchMic(pc);
    this.dispatchEvent(new Event('change'));
  }

  /** Chooses the speaker for `elements` (the call's audio, the ring). @param {string} id
   *  @param {ReadonlyArray<HTMLMediaElement>} elements */
  async setSpeaker(id, elements) {
    this.speakerId = id;
    save(SPEAKER_KEY, id);
    await this.applySpeaker(elements);
    this.dispatchEvent(new Event('change'));
  }

  /** Plays `elements` on the chosen speaker (where the browser can). @param {ReadonlyArray<HTMLMediaElement>} elements */
  async applySpeaker(elements) {
    if (!this.canChooseSpeaker) return;
    for (const el of elements) {
      const sink = /** @type {any} */ (el);
      if (sink.sinkId !== this.speakerId) await sink.setSinkId(this.speakerId).catch(() => undefined);
    }
  }

  /** A new track from the chosen microphone replaces the call's (RTCRtpSender.replaceTrack: no
   *  renegotiation); a muted call stays muted. @param {RTCPeerConnection} pc */
  async #switchMic(pc) {
    const sender = pc.getSenders().find((s) => s.track?.kind === 'audio');
    if (!sender?.track) return;
    const old = sender.track;
    const stream = await this.mediaStreamFactory()({ audio: true, video: false });
    const track = stream.getAudioTracks()[0];
    if (!track) return;
    track.enabled = old.enabled;
    await sender.replaceTrack(track);
    old.stop();
  }
}

/** A live level of a microphone track, drawn into a <meter> while attached. */
export class LevelMeter {
  /** @param {HTMLMeterElement} meter */
  constructor(meter) {
    this.meter = meter;
    /** @type {AudioContext | null} */ this.ctx = null;
    /** @type {MediaStreamAudioSourceNode | null} */ this.source = null;
    /** @type {AnalyserNode | null} */ this.analyser = null;
    /** @type {MediaStreamTrack | null} */ this.track = null;
    this.timer = /** @type {ReturnType<typeof setInterval> | undefined} */ (undefined);
  }

  /** Meters `track` (null: stops). @param {MediaStreamTrack | null} track */
  attach(track) {
    if (track === this.track) return;
    this.detach();
    if (!track) return;
    this.track = track;
    this.ctx ??= new AudioContext();
    if (this.ctx.state === 'suspended') void this.ctx.resume().catch(() => undefined);
    this.source = this.ctx.createMediaStreamSource(new MediaStream([track]));
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.source.connect(this.analyser);
    const buf = new Float32Array(this.analyser.fftSize);
    // Ten times a second: enough for a meter, cheap beside a call.
    this.timer = setInterval(() => {
      if (!this.analyser) return;
      this.analyser.getFloatTimeDomainData(buf);
      // A disabled (muted) track is silence to WebAudio: the meter drops to 0 while muted.
      this.meter.value = levelFromSamples(buf);
    }, 100);
  }

  detach() {
    clearInterval(this.timer);
    this.source?.disconnect();
    this.source = null;
    this.analyser = null;
    this.track = null;
    this.meter.value = 0;
  }
}
