// Renders the missed-calls and recent-calls lists from Phone's CallLog. DOM only, no SIP.
import { callerLabel } from './callerid.js';
import { missedLabel, recordLabel } from './history.js';

/** @typedef {{ redial?: (number: string) => void }} ListActions */

/** A "Call back" button for a record with a number to call (an anonymous caller has none).
 * @param {import('./history.js').CallRecord} r @param {ListActions} actions */
function redialButton(r, actions) {
  if (!actions.redial || !r.number || r.number === 'unknown' || r.number === 'anonymous') return [];
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'link redial';
  b.textContent = 'Call back';
  b.setAttribute('aria-label', `Call ${callerLabel(r)}`);
  b.dataset.number = r.number;
  const redial = actions.redial;
  b.addEventListener('click', () => redial(r.number));
  return [b];
}

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
 * @param {ListActions} actions
 */
function fill(list, records, label, actions) {
  list.replaceChildren(
    ...records.map((r) => {
      const li = document.createElement('li');
      li.dataset.outcome = r.outcome;
      li.dataset.direction = r.direction;
      const text = document.createElement('span');
      text.textContent = label(r); // textContent: caller IDs come from the network, never as HTML
      li.append(text, timeOf(r.at), ...redialButton(r, actions));
      return li;
    }),
  );
}

/**
 * @param {{ missed: HTMLElement, missedList: HTMLUListElement, missedCount: HTMLElement,
 *           recent: HTMLElement, recentList: HTMLUListElement }} ui
 * @param {import('./history.js').CallLog} log
 * @param {ListActions} [actions] redial: each call with a number gets a "Call back" button
 */
export function renderLists(ui, log, actions = {}) {
  const missed = log.missed();
  const recent = log.recent();
  fill(ui.missedList, missed, missedLabel, actions);
  ui.missedCount.textContent = missed.length > 0 ? String(missed.length) : '';
  ui.missed.hidden = missed.length === 0;
  fill(ui.recentList, recent, recordLabel, actions);
  ui.recent.hidden = recent.length === 0;
}
