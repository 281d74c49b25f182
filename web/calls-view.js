// Renders the page's calls (calls.js callViews) as a list: each call's state and its own buttons —
// Swap to a held call, Hang up any one of them. DOM only, no SIP.

/**
 * @param {HTMLUListElement} list
 * @param {ReadonlyArray<import('./calls.js').CallView>} calls
 * @param {{ swap(id: number): void, hangup(id: number): void }} act
 */
export function renderCalls(list, calls, act) {
  list.hidden = calls.length < 2; // one call: the call line says it all
  list.replaceChildren(
    ...calls.map((c) => {
      const li = document.createElement('li');
      li.dataset.line = String(c.id);
      li.dataset.state = c.state;
      li.dataset.current = String(c.current);
      li.dataset.waiting = String(c.waiting);
      const text = document.createElement('span');
      text.textContent = c.label; // textContent: caller IDs come from the network, never as HTML
      li.append(text);
      if (!c.current && c.state === 'in-call' && c.hold === 'held') li.append(button('Swap', `Swap to ${c.peer}`, () => act.swap(c.id)));
      if (c.state !== 'incoming') li.append(button('Hang up', `Hang up ${c.peer}`, () => act.hangup(c.id)));
      return li;
    }),
  );
}

/** @param {string} text @param {string} name the accessible name @param {() => void} onClick */
function button(text, name, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', name);
  b.addEventListener('click', onClick);
  return b;
}
