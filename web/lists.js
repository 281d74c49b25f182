// Renders the missed-calls and recent-calls lists from Phone's CallLog. DOM only, no SIP.
import { missedLabel, recordLabel } from './history.js';

/** @param {number} at ms since epoch */
function timeOf(at) {
  const el = document.createElement('time');
  const d = new Date(at);
  el.dateTime = d.toISOString();
  el.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return el;
}

/**
 * @param {HTMLUListElement} list
 * @param {readonly import('./history.js').CallRecord[]} records
 * @param {(r: import('./history.js').CallRecord) => string} label
 */
function fill(list, records, label) {
  list.replaceChildren(
    ...records.map((r) => {
      const li = document.createElement('li');
      li.dataset.outcome = r.outcome;
      li.dataset.direction = r.direction;
      const text = document.createElement('span');
      text.textContent = label(r); // textContent: caller IDs come from the network, never as HTML
      li.append(text, timeOf(r.at));
      return li;
    }),
  );
}

/**
 * @param {{ missed: HTMLElement, missedList: HTMLUListElement, missedCount: HTMLElement,
 *           recent: HTMLElement, recentList: HTMLUListElement }} ui
 * @param {import('./history.js').CallLog} log
 */
export function renderLists(ui, log) {
  const missed = log.missed();
  const recent = log.recent();
  fill(ui.missedList, missed, missedLabel);
  ui.missedCount.textContent = missed.length > 0 ? String(missed.length) : '';
  ui.missed.hidden = missed.length === 0;
  fill(ui.recentList, recent, recordLabel);
  ui.recent.hidden = recent.length === 0;
}
