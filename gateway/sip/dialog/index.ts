// RFC 3261 §12 dialogs.
export { Dialog } from './dialog.js';
export type { CreateRequestOptions, DialogId, DialogInit } from './dialog.js';
export { DialogStore } from './store.js';
export { DialogError } from './headers.js';
export { dialogTransition, IllegalDialogTransition } from './state.js';
export type { DialogState } from './state.js';
