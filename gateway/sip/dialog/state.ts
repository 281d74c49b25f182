// RFC 3261 §12 dialog states: a 1xx with a To tag creates an "early" dialog, a 2xx a "confirmed" one;
// BYE, or a non-2xx final answer to the INVITE that created an early dialog (§12.3), terminates it.
export type DialogState = 'early' | 'confirmed' | 'terminated';

const EDGES: Readonly<Record<DialogState, readonly DialogState[]>> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export class IllegalDialogTransition extends Error {
  constructor(
    readonly from: DialogState,
    readonly to: DialogState,
  ) {
    super(`dialog: illegal transition ${from} -> ${to}`);
    this.name = 'IllegalDialogTransition';
  }
}

/** The one transition function: returns `to` for an edge of the table, throws otherwise. */
export function dialogTransition(from: DialogState, to: DialogState): DialogState {
  if (!EDGES[from].includes(to)) throw new IllegalDialogTransition(from, to);
  return to;
}
