// In-memory dialog table keyed by the dialog ID (RFC 3261 §12: Call-ID, local tag, remote tag).
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Dialog, DialogId } from './dialog.js';
import { readAddress, readCallId } from './headers.js';

function key(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

export class DialogStore {
  private readonly dialogs = new Map<string, Dialog>();

  get size(): number {
    return this.dialogs.size;
  }

  /** Adds a dialog; throws if one with the same ID is already stored. */
  add(dialog: Dialog): void {
    const k = key(dialog.id);
    if (this.dialogs.has(k)) throw new Error(`dialog already stored: ${dialog.id.callId}`);
    this.dialogs.set(k, dialog);
  }

  get(id: DialogId): Dialog | undefined {
    return this.dialogs.get(key(id));
  }

  delete(id: DialogId): boolean {
    return this.dialogs.delete(key(id));
  }

  values(): IterableIterator<Dialog> {
    return this.dialogs.values();
  }

  /** The dialog an incoming request belongs to. §12.2.2: the local tag is the request's To tag and the
   *  remote tag its From tag. Undefined for a request without both tags or an unknown dialog (→ 481). */
  findForRequest(req: SipRequest): Dialog | undefined {
    const id = safeId(req, 'To', 'From');
    return id && this.get(id);
  }

  /** The dialog a response to one of our requests belongs to (local tag = From tag, remote = To tag). */
  findForResponse(res: SipResponse): Dialog | undefined {
    const id = safeId(res, 'From', 'To');
    return id && this.get(id);
  }
}

/** Never throws: a message too malformed to carry a dialog ID matches no dialog. */
function safeId(msg: SipRequest | SipResponse, local: 'From' | 'To', remote: 'From' | 'To'): DialogId | undefined {
  try {
    const localTag = readAddress(msg, local).tag;
    const remoteTag = readAddress(msg, remote).tag;
    if (!localTag || !remoteTag) return undefined;
    return { callId: readCallId(msg), localTag, remoteTag };
  } catch {
    return undefined;
  }
}
