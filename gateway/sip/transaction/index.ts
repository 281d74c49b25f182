// Public surface of the SIP transaction layer (RFC 3261 §17, RFC 6026).
export * from './types.js';
export { createTransactionLayer, type TransactionLayerOptions } from './layer.js';
export { DEFAULT_TIMERS } from './timers.js';
export { IllegalTransitionError } from '../../lib/state-machine.js';
export { TransactionInputError } from './msg.js';
export { inviteClientTransition, type InviteClientState } from './invite-client.js';
export { nonInviteClientTransition, type NonInviteClientState } from './non-invite-client.js';
export { inviteServerTransition, type InviteServerState } from './invite-server.js';
export { nonInviteServerTransition, type NonInviteServerState } from './non-invite-server.js';
