// Click-to-call into the page: `?call=NUMBER` in the URL (dialled once, after sign-in), `tel:` links
// (RFC 3966; the page registers itself as their handler where the browser allows), and keyboard dialling
// (digits typed anywhere outside a text field go to the number). Pure functions: unit-tested.

/** What `?call=` and a tel: URI may name: digits (+ * #) or a user's name / extension. */
const TARGET = /^[A-Za-z0-9.*#+_~-]{1,64}$/;
/** RFC 3966 §5.1.1: visual-separator = "-" / "." / "(" / ")" — ignored when the number is used. */
const VISUAL_SEPARATORS = /[-.() ]/g;

/**
 * The number of a tel: URI: `tel:+1-555-0100;ext=7` → "+15550100" (parameters after ";" dropped,
 * RFC 3966 §3; percent-encoding undone). '' when it is not a usable tel: URI.
 * @param {string} uri
 */
export function telNumber(uri) {
  const m = /^tel:(?:\/\/)?([^;?]*)/i.exec(uri.trim());
  if (!m) return '';
  let text;
  try {
    text = decodeURIComponent(m[1] ?? '');
  } catch {
    return '';
  }
  const number = text.replace(VISUAL_SEPARATORS, '');
  return /^\+?[0-9*#]{1,32}$/.test(number) ? number : '';
}

/**
 * The call a page URL asks for: `?call=5551234`, `?call=tel:+1-555-0100` (what registerProtocolHandler
 * hands over as %s), `?call=bob`. '' when none, or not a number/name we would dial.
 * @param {string} search location.search
 */
export function callTarget(search) {
  const raw = new URLSearchParams(search).get('call');
  if (!raw) return '';
  const value = raw.trim();
  if (/^tel:/i.test(value)) return telNumber(value);
  const plain = value.replace(VISUAL_SEPARATORS, '');
  return TARGET.test(plain) ? plain : '';
}

/** The page URL without its `call` parameter (a reload must not dial again). @param {string} href */
export function withoutCallParam(href) {
  const url = new URL(href);
  url.searchParams.delete('call');
  return url.toString();
}

/** The handler URL for navigator.registerProtocolHandler('tel', …): same origin, %s is the tel: URI. */
export function telHandlerUrl(/** @type {string} */ origin) {
  return `${origin}/?call=%s`;
}

/**
 * What a key press outside any text field does to the number: append a dial character, delete the last,
 * dial, or nothing (null). Ctrl/Alt/Meta combinations are the browser's and the screen reader's.
 * @param {{ key: string, ctrlKey?: boolean, altKey?: boolean, metaKey?: boolean, target?: { tagName?: string, isContentEditable?: boolean } | null }} e
 * @returns {{ type: 'append', char: string } | { type: 'backspace' } | { type: 'dial' } | null}
 */
export function keyAction(e) {
  if (e.ctrlKey || e.altKey || e.metaKey) return null;
  const tag = String(e.target?.tagName ?? '').toUpperCase();
  // Typing in a field or choosing in a list keeps its meaning.
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.target?.isContentEditable) return null;
  // A disclosure (<summary>, e.g. "Audio settings") or a link opens with Enter: not a dial.
  if (tag === 'SUMMARY' || tag === 'A') return null;
  if (/^[0-9*#+]$/.test(e.key)) return { type: 'append', char: e.key };
  if (e.key === 'Backspace') return { type: 'backspace' };
  // Enter on a focused button presses that button (the keypad key just clicked, Hang up …), not Call;
  // digits typed with the focus on a button still go to the number.
  if (e.key === 'Enter' && tag !== 'BUTTON') return { type: 'dial' };
  return null;
}
