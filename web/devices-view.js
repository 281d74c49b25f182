// The "Audio settings" panel (microphone, speaker, a live input level) and the echo test — the
// test-your-microphone step before the first call. DOM only; the devices themselves: devices.js.
import { LevelMeter } from './devices.js';

/** The echo line of the default dial plan (sip-config/gateway.yaml routes: `^(\*43|echo)$`, echo: true). */
export const ECHO_NUMBER = '*43';
const ECHO_KEY = 'webphone.echoTested';

/** @param {string} id */
function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`softphone: missing element #${id}`);
  return /** @type {any} */ (e);
}

/** @param {HTMLSelectElement} select @param {Array<{ id: string, label: string }>} options @param {string} chosen */
function fill(select, options, chosen) {
  select.replaceChildren(
    ...options.map((o) => {
      const opt = document.createElement('option');
      opt.value = o.id;
      opt.textContent = o.label; // device labels are the OS's: text, never HTML
      return opt;
    }),
  );
  select.value = options.some((o) => o.id === chosen) ? chosen : options[0]?.id ?? '';
}

/**
 * @param {import('./devices.js').Devices} devices
 * @param {{ phone: import('./phone.js').Phone, audio: HTMLMediaElement, dial: (number: string) => void }} page
 */
export function installDevicesView(devices, page) {
  const ui = {
    panel: el('audio-settings'), mic: el('mic-select'), speaker: el('speaker-select'), note: el('speaker-note'),
    level: el('mic-level'), echo: el('echo-btn'), hint: el('echo-hint'),
  };
  const meter = new LevelMeter(ui.level);
  /** @type {MediaStream | null} */ let preview = null;
  const { phone } = page;

  const stopPreview = () => {
    meter.detach();
    for (const t of preview?.getTracks() ?? []) t.stop();
    preview = null;
  };
  /** The chosen microphone's level while the panel is open (its own stream: the call's is metered in the call view). */
  const startPreview = async () => {
    stopPreview();
    let stream;
    try {
      stream = await devices.mediaStreamFactory()({ audio: true, video: false });
    } catch {
      return undefined; // no permission: the lists still show what the browser tells
    }
    preview = stream;
    if (!ui.panel.open) return stopPreview();
    meter.attach(stream.getAudioTracks()[0] ?? null);
    return undefined;
  };
  const refresh = async () => {
    const { mics, speakers } = await devices.list().catch(() => ({ mics: [], speakers: [] }));
    fill(ui.mic, mics, devices.micId);
    fill(ui.speaker, speakers, devices.speakerId);
    ui.speaker.disabled = !devices.canChooseSpeaker;
    ui.note.hidden = devices.canChooseSpeaker;
  };

  ui.panel.addEventListener('toggle', async () => {
    if (!ui.panel.open) return stopPreview();
    await startPreview();
    await refresh(); // after getUserMedia: the labels are there now
  });
  ui.mic.addEventListener('change', async () => {
    await devices.setMic(ui.mic.value, phone.lines.live().map((l) => l.peerConnection));
    if (ui.panel.open) await startPreview();
  });
  ui.speaker.addEventListener('change', () => void devices.setSpeaker(ui.speaker.value, [page.audio]));
  navigator.mediaDevices?.addEventListener?.('devicechange', () => void refresh());

  installEchoStep(page, ui);
  void devices.applySpeaker([page.audio]);
  void refresh();
}

/**
 * The test-your-microphone step: the Echo test button, and a hint shown until the first call (or the
 * first echo test). The settings panel shows once signed in.
 * @param {{ phone: import('./phone.js').Phone, dial: (number: string) => void }} page
 * @param {{ panel: HTMLElement, echo: HTMLButtonElement, hint: HTMLElement }} ui
 */
function installEchoStep(page, ui) {
  const { phone } = page;
  const tested = () => {
    try {
      return Boolean(localStorage.getItem(ECHO_KEY));
    } catch {
      return false;
    }
  };
  const render = () => {
    const idle = !phone.lines.live().length;
    ui.hint.hidden = !idle || tested() || phone.history.recent().length > 0;
    ui.panel.hidden = phone.registration.state !== 'registered';
  };
  ui.echo.addEventListener('click', () => {
    try {
      localStorage.setItem(ECHO_KEY, '1');
    } catch {
      // storage disabled
    }
    page.dial(ECHO_NUMBER);
    render();
  });
  for (const type of ['registration', 'lines', 'history']) phone.addEventListener(type, render);
  render();
}
