// Call transfer from the page (RFC 3515 REFER, sent by sip.js's Session.refer; the gateway handles it and
// reports the transfer's progress in NOTIFYs carrying message/sipfrag, RFC 3420):
//  - blind: the call is put on hold, then REFER to a number; the far party is connected to it by the
//    gateway. A final 2xx sipfrag: the gateway ends our call (BYE). A failure (busy, no answer, refused):
//    "Transfer failed: Busy (486)" and the call is taken off hold again (RFC 3515 §2.4.5: the transferor's
//    call goes on);
//  - attended: between two of the page's calls — REFER in one call's dialog with Refer-To naming the
//    other call's dialog in Replaces (RFC 3891; sip.js builds it from the other Session). Success ends both.
// No DOM here (transfer-view.js renders it); duck-typed lines ({ id, peer, session, control, call }).
import { errorText, normaliseTarget, statusReason } from './reasons.js';

/** RFC 3420 §2: a sipfrag's start line; for a REFER's NOTIFY the status line of the triggered INVITE's
 *  response ("SIP/2.0 180 Ringing"). null when the body has none. @param {unknown} body */
export function sipfragStatus(body) {
  const first = String(body ?? '').split(/\r?\n/, 1)[0] ?? '';
  const m = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/.exec(first.trim());
  return m ? { code: Number(m[1]), reason: (m[2] ?? '').trim() } : null;
}

/** What the page says while a transfer is under way and how it ended. @param {number} code @param {string} reason */
export function transferText(code, reason) {
  if (code < 200) return code === 180 || code === 183 ? 'Transferring… (ringing)' : 'Transferring…';
  if (code < 300) return 'Transferred';
  return `Transfer failed: ${statusReason(code, reason)}`;
}

/** @typedef {{ state: 'trying' | 'done' | 'failed', text: string, code: number }} TransferStatus */

/** Transfers of the page's calls; `onChange` runs on every progress (the view re-renders). */
export class Transferor {
  /**
   * @param {{ lines: { current?: any, get(id: number): any, live(): any[] }, domain: string }} phone
   * @param {{ onChange(): void, makeUri(text: string): any }} opts makeUri: sip.js UserAgent.makeURI
   */
  constructor(phone, opts) {
    this.phone = phone;
    this.opts = opts;
    /** The last transfer of each call (by line id). @type {Map<number, TransferStatus>} */
    this.status = new Map();
  }

  /** The call a transfer starts from: `id`, else the current call; it must be established. @param {number} [id] */
  #line(id) {
    const line = id === undefined ? this.phone.lines.current : this.phone.lines.get(id);
    if (!line || line.ended || line.call.state !== 'in-call') throw new Error('No call to transfer');
    if (this.status.get(line.id)?.state === 'trying') throw new Error('A transfer of this call is under way');
    return line;
  }

  /** The other established calls `id`'s call can be joined with (attended transfer). @param {number} [id] */
  targets(id) {
    const from = id === undefined ? this.phone.lines.current : this.phone.lines.get(id);
    return this.phone.lines.live().filter((l) => l !== from && l.call.state === 'in-call' && l.session?.dialog);
  }

  /** Blind transfer of the call `id` (default: the current one) to `input`. Resolves with the outcome.
   *  @param {string} input @param {number} [id] */
  async blind(input, id) {
    const line = this.#line(id);
    const number = normaliseTarget(input);
    // RFC 3261 §25.1: "#" is not allowed unescaped in the user part.
    const uri = this.opts.makeUri(`sip:${number.replace(/#/g, '%23')}@${this.phone.domain}`);
    if (!uri) throw new Error(`Cannot transfer to ${number}`);
    // The far party waits on hold while the target rings (as a desk phone does).
    const held = line.control?.hold.state === 'active';
    if (held) await line.control.setHold(true);
    const outcome = await this.#refer([line], uri);
    if (!outcome.ok && held && !line.ended && line.control?.hold.state === 'held') {
      await line.control.setHold(false).catch(() => undefined);
    }
    return outcome;
  }

  /** Attended transfer: joins the call `id` (default: the current one) with the call `otherId`.
   *  @param {number} otherId @param {number} [id] */
  async attended(otherId, id) {
    const line = this.#line(id);
    const other = this.phone.lines.get(otherId);
    if (!other || other === line || other.ended || other.call.state !== 'in-call') throw new Error('No such call to transfer to');
    return this.#refer([line, other], other.session);
  }

  /** REFER in lines[0]'s dialog; follows its NOTIFYs to the final sipfrag. @param {any[]} lines @param {any} target */
  #refer(lines, target) {
    const [line] = lines;
    /** @type {(o: { ok: boolean, text: string }) => void} */
    let settle = () => undefined;
    const settled = new Promise((resolve) => (settle = resolve));
    const set = (/** @type {TransferStatus['state']} */ state, /** @type {number} */ code, /** @type {string} */ text) => {
      this.status.set(line.id, { state, code, text });
      this.opts.onChange();
    };
    const finish = (/** @type {number} */ code, /** @type {string} */ reason) => {
      if (this.status.get(line.id)?.state !== 'trying') return;
      const ok = code >= 200 && code < 300;
      const text = code === 0 ? `Transfer failed: ${reason}` : transferText(code, reason);
      // the gateway ends the call(s) now: they say why
      if (ok) for (const l of lines) l.transferred = text;
      set(ok ? 'done' : 'failed', code, text);
      settle({ ok, text });
    };
    set('trying', 100, 'Transferring…');
    const options = {
      requestDelegate: {
        // RFC 3515 §2.4.2: a refused REFER (403, 405 …) is the transfer's failure.
        onReject: (/** @type {any} */ r) => finish(r.message.statusCode, r.message.reasonPhrase),
      },
      onNotify: (/** @type {any} */ notification) => {
        void notification.accept().catch(() => undefined);
        const st = sipfragStatus(notification.request.body);
        if (!st) return;
        if (st.code < 200) set('trying', st.code, transferText(st.code, st.reason));
        else finish(st.code, st.reason);
      },
    };
    Promise.resolve()
      .then(() => line.session.refer(target, options))
      .catch((/** @type {unknown} */ err) => finish(0, errorText(err)));
    return /** @type {Promise<{ ok: boolean, text: string }>} */ (settled);
  }
}
