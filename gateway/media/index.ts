// Media engine entry point: the contract types and the embedded implementation.
export * from './types.js';
export { createEmbeddedMediaEngine, type EmbeddedMediaEngineOptions } from './engine.js';
export { parsePortRange, type PortRange } from './ports.js';
