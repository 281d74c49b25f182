// Media engine entry point: the contract types and the embedded implementation.
export * from './types.js';
export { createEmbeddedMediaEngine, type EmbeddedMediaEngine, type EmbeddedMediaEngineOptions } from './engine.js';
export { needsOtherSide, type OtherSideReason } from './sdp/modification.js';
export { parsePortRange, type PortRange } from './ports.js';
