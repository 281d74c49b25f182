// RFC 3261 §12 dialog states: a 1xx with a To tag creates an "early" dialog, a 2xx a "confirmed" one;
// BYE, or a non-2xx final answer to the INVITE that created an early dialog (§12.3), terminates it.
import { defineMachine, IllegalTransitionError } from '../../lib/state-machine.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export const DIALOG_MACHINE = defineMachine<DialogState>('dialog', {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
});

/** What an illegal dialog move throws (the shared IllegalTransitionError, machine "dialog"). */
export const IllegalDialogTransition = IllegalTransitionError;

/** The one transition function: returns `to` for an edge of the table, throws otherwise. */
export const dialogTransition = DIALOG_MACHINE.transition;
