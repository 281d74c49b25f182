// The page's Transfer control (transfer.js does the SIP): a "Transfer…" button among the in-call buttons
// opens a panel with a number field and a "Transfer" button (blind) and, for each other established call,
// "Transfer to <party>" (attended). The transfer's progress and result show under it in people's words
// ("Transferring… (ringing)", "Transfer failed: 5559999 is busy"), the SIP code in a details line under
// that ("SIP 486 Busy"; words.js transferWords).
import { UserAgent } from 'sip.js';
import { Transferor } from './transfer.js';
import { transferWords } from './words.js';

/** @param {string} id */
function el(id) {
  return /** @type {any} */ (document.getElementById(id));
}

/** The in-call view's Transfer button; a page without that slot gets one after Hold. */
function toggleButton() {
  const b = document.createElement('button');
  b.id = 'transfer-btn';
  b.type = 'button';
  b.textContent = 'Transfer';
  el('hold-btn')?.after(b);
  return b;
}

/** The details line under the transfer's status (the SIP code); a page without it gets one. */
function detailLine() {
  const p = document.createElement('p');
  p.id = 'transfer-detail';
  p.className = 'detail';
  el('transfer-status')?.after(p);
  return p;
}

/** "Transfer to <party>" for another established call (attended).
 *  @param {any} other @param {boolean} busy @param {() => void} onClick */
function attendedItem(other, busy, onClick) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = `Transfer to ${other.peer}`; // textContent: caller IDs come from the network
  b.disabled = busy;
  b.addEventListener('click', onClick);
  li.append(b);
  return li;
}

/** The last transfer's outcome stays visible (a failed one while the call goes on, a done one after).
 *  @param {any} ui @param {Transferor} transfers @param {Map<unknown, string>} targets @param {any} line @param {any} status */
function showOutcome(ui, transfers, targets, line, status) {
  const [lastId, last] = status && line ? [line.id, status] : [...transfers.status.entries()].at(-1) ?? [undefined, undefined];
  if (last) {
    const words = transferWords(last, targets.get(lastId) ?? '');
    ui.status.textContent = words.text; // textContent: the target's name may come from the network
    ui.detail.textContent = words.detail;
  }
  ui.status.dataset.state = last?.state ?? '';
}

/**
 * Wires the transfer control of the page to `phone` (a Phone: lines, domain, events).
 * @param {any} phone
 * @returns {Transferor}
 */
export function installTransfer(phone) {
  const ui = {
    toggle: el('transfer-btn') ?? toggleButton(), panel: el('transfer'), number: el('transfer-number'), go: el('transfer-go'),
    calls: el('transfer-calls'), status: el('transfer-status'), detail: el('transfer-detail') ?? detailLine(),
  };
  /** Who each call's last transfer went to (line id → number or party): what its outcome names. */
  const targets = new Map();
  if (!ui.toggle || !ui.panel) throw new Error('softphone: the transfer control is missing from the page');
  const transfers = new Transferor(phone, { onChange: () => render(), makeUri: (t) => UserAgent.makeURI(t) });

  const run = (/** @type {() => Promise<unknown>} */ fn) => {
    fn().catch((err) => {
      ui.status.textContent = err instanceof Error ? err.message : String(err);
    });
  };

  function render() {
    const line = phone.lines.current;
    const inCall = Boolean(line && !line.ended && line.call.state === 'in-call');
    const status = line ? transfers.status.get(line.id) : undefined;
    const busy = status?.state === 'trying';
    ui.toggle.disabled = !inCall || busy;
    if (!inCall) setOpen(false);
    ui.go.disabled = busy;
    ui.calls.replaceChildren(...(inCall ? transfers.targets() : []).map((other) => attendedItem(other, busy, () => run(() => {
      targets.set(line?.id, String(other.peer ?? ''));
      return transfers.attended(other.id);
    }))));
    showOutcome(ui, transfers, targets, line, status);
  }

  /** @param {boolean} open */
  function setOpen(open) {
    ui.panel.hidden = !open;
    ui.toggle.setAttribute('aria-expanded', String(open));
  }

  ui.toggle.setAttribute('aria-controls', 'transfer');
  ui.toggle.addEventListener('click', () => {
    setOpen(ui.panel.hidden);
    if (!ui.panel.hidden) ui.number.focus();
  });
  const blind = () => run(() => {
    targets.set(phone.lines.current?.id, String(ui.number.value ?? '').trim());
    return transfers.blind(ui.number.value);
  });
  ui.go.addEventListener('click', blind);
  ui.number.addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
    if (e.key === 'Enter') blind();
  });
  for (const type of ['lines', 'call', 'control']) phone.addEventListener(type, render);
  ui.toggle.hidden = false;
  setOpen(false);
  render();
  return transfers;
}
