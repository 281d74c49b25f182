// Media engine entry point: the contract types and the embedded implementation (in this thread, or sharded
// across worker threads: media.workers).
export * from './types.js';
export { createEmbeddedMediaEngine, type EmbeddedMediaEngine, type EmbeddedMediaEngineOptions } from './engine.js';
export { coreCount, createEmbeddedMediaEngineFor, createShardedMediaEngine, ShardedMediaEngine, type ShardedMediaEngineOptions } from './workers/sharded.js';
export { MIN_PORTS_PER_WORKER, resolveWorkerCount, type WorkersSetting } from './workers/split.js';
export { needsOtherSide, type OtherSideReason } from './sdp/modification.js';
export { parsePortRange, type PortRange } from './ports.js';
