// Draws a call's quality (quality.js samples): the small indicator (a button that opens the panel),
// the detail panel with the figures and a graph over the call (inline SVG: estimated MOS as a line,
// packet loss as bars), and the network warning. DOM only. The gateway's own figures for both legs
// (GET /api/me/calls, quality-gateway.js) go in the panel's slot through setGatewayFigures().

const SVG = 'http://www.w3.org/2000/svg';
const W = 300;
const H = 80;
/** Loss at the top of the graph (%): more is drawn as this. */
const LOSS_TOP = 20;

/** @typedef {import('./quality.js').Sample} Sample */
/** @typedef {import('./quality-gateway.js').GatewayFigures} GatewayFigures */

/** @param {number | null} v @param {string} unit @param {number} [digits] */
function figure(v, unit, digits = 0) {
  return v === null || v === undefined ? '—' : `${v.toFixed(digits)}${unit}`;
}

/** @param {string} tag @param {Record<string, string>} attrs */
function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/**
 * The graph of a call: MOS 1…4.5 as a line, loss 0…LOSS_TOP % as bars, one step per sample.
 * @param {ReadonlyArray<Sample>} samples
 */
export function qualityGraph(samples) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'quality-graph', role: 'img' });
  const last = samples[samples.length - 1];
  const title = svg('title', {});
  title.textContent = `Call quality over ${samples.length} seconds: estimated MOS now ${figure(last?.mos ?? null, '', 1)}, packet loss ${figure(last?.lossPercent ?? null, ' %', 1)}`;
  root.append(title);
  for (const mos of [2, 3, 4]) {
    const y = String(H - ((mos - 1) / 3.5) * H);
    root.append(svg('line', { x1: '0', x2: String(W), y1: y, y2: y, class: 'grid' }));
  }
  const n = Math.max(samples.length, 2);
  const step = W / (n - 1);
  samples.forEach((s, i) => {
    const loss = Math.max(s.lossPercent ?? 0, s.remoteLossPercent ?? 0);
    if (loss <= 0) return;
    const h = (Math.min(loss, LOSS_TOP) / LOSS_TOP) * H;
    root.append(svg('rect', { x: String(i * step - step / 2), y: String(H - h), width: String(Math.max(step, 1)), height: String(h), class: 'loss' }));
  });
  const points = samples
    .map((s, i) => (s.mos === null ? null : `${(i * step).toFixed(1)},${(H - ((s.mos - 1) / 3.5) * H).toFixed(1)}`))
    .filter(Boolean)
    .join(' ');
  if (points) root.append(svg('polyline', { points, class: 'mos' }));
  return root;
}

/** The indicator, the panel and the warning of the current call. */
export class QualityView {
  /** @param {{ button: HTMLButtonElement, panel: HTMLElement, warning: HTMLElement }} el */
  constructor(el) {
    this.el = el;
    /** The gateway's figures for both legs (quality-gateway.js), shown in the panel once known. @type {GatewayFigures | null} */
    this.gateway = null;
    el.button.addEventListener('click', () => {
      const open = el.button.getAttribute('aria-expanded') !== 'true';
      el.button.setAttribute('aria-expanded', String(open));
      el.panel.hidden = !open;
    });
  }

  /** No call (or a call not yet up): a neutral indicator, no warning. */
  clear() {
    this.el.button.dataset.grade = 'none';
    this.el.button.textContent = 'Call quality';
    this.el.warning.hidden = true;
    this.el.warning.textContent = '';
    this.el.panel.replaceChildren();
  }

  /**
   * @param {ReadonlyArray<Sample>} samples the call's samples, oldest first
   * @param {string} grade mos.js mosGrade of the latest MOS ('none' without one)
   * @param {string} warning the warning in force ('' none)
   */
  render(samples, grade, warning) {
    const last = samples[samples.length - 1] ?? null;
    const b = this.el.button;
    b.dataset.grade = grade;
    b.textContent = last?.mos == null ? 'Call quality' : `Quality: ${grade} (${last.mos.toFixed(1)})`;
    this.el.warning.hidden = !warning;
    if (this.el.warning.textContent !== warning) this.el.warning.textContent = warning;
    if (this.el.panel.hidden) return; // drawn when opened: the next sample does it
    this.el.panel.replaceChildren(this.#figures(last), qualityGraph(samples), this.#gateway());
  }

  /** The gateway's figures for both legs (null: none): shown in the panel, at once when it is open.
   *  @param {GatewayFigures | null} figures */
  setGatewayFigures(figures) {
    this.gateway = figures;
    const slot = this.el.panel.querySelector('[data-slot="gateway-rtcp"]');
    if (slot && !this.el.panel.hidden) slot.replaceWith(this.#gateway());
  }

  /** @param {Sample | null} s */
  #figures(s) {
    const dl = document.createElement('dl');
    dl.className = 'quality-figures';
    /** @type {Array<[string, string, number | null, string]>} */
    const rows = [
      ['loss', 'Packet loss (what you hear)', s?.lossPercent ?? null, figure(s?.lossPercent ?? null, ' %', 1)],
      ['remote-loss', 'Packet loss (what they hear)', s?.remoteLossPercent ?? null, figure(s?.remoteLossPercent ?? null, ' %', 1)],
      ['jitter', 'Jitter', s?.jitterMs ?? null, figure(s?.jitterMs ?? null, ' ms')],
      ['rtt', 'Round trip', s?.rttMs ?? null, figure(s?.rttMs ?? null, ' ms')],
      ['mos', 'Estimated MOS (1–4.5)', s?.mos ?? null, figure(s?.mos ?? null, '', 1)],
    ];
    for (const [key, label, value, text] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.dataset.figure = key;
      dd.dataset.value = value === null ? '' : String(value);
      dd.textContent = text;
      dl.append(dt, dd);
    }
    if (s?.codec) {
      const dt = document.createElement('dt');
      dt.textContent = 'Codec';
      const dd = document.createElement('dd');
      dd.textContent = s.codec;
      dl.append(dt, dd);
    }
    return dl;
  }

  /** The browser's estimate named as such, then what the gateway measured on each leg: a line per side
   *  (data-gateway="you" / "far", data-loss its loss %) and where audio is lost, if anywhere. */
  #gateway() {
    const box = document.createElement('div');
    box.dataset.slot = 'gateway-rtcp';
    const hint = document.createElement('p');
    hint.className = 'hint';
    hint.textContent = 'Above: estimated from this browser’s own statistics (ITU-T G.107 E-model).';
    box.append(hint);
    const g = this.gateway;
    if (!g) return box;
    for (const side of /** @type {const} */ (['you', 'far'])) {
      const p = document.createElement('p');
      p.className = 'gateway-figures';
      p.dataset.gateway = side;
      p.dataset.loss = g[side]?.lossPercent == null ? '' : String(g[side]?.lossPercent);
      p.textContent = g.lines[side];
      box.append(p);
    }
    if (g.verdict) {
      const v = document.createElement('p');
      v.className = 'gateway-verdict';
      v.dataset.gateway = 'verdict';
      v.textContent = g.verdict;
      box.append(v);
    }
    return box;
  }
}
