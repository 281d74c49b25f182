// The per-worker calls gauge (gateway/metrics/media-load.ts): where the sharded engine placed live calls,
// read from engine.load() at scrape time.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../gateway/config/load.js';
import { createMetrics } from '../../../../gateway/metrics/index.js';
import type { EngineLoad, MediaEngine } from '../../../../gateway/media/types.js';
import { parsePrometheusText, sampleValue } from '../../../support/metrics-text.js';

describe('media worker metrics', () => {
  it('webphone_media_engine_calls per worker, as load() says at each scrape', async () => {
    const loads: EngineLoad[] = [
      { worker: 0, calls: 7, utilization: 0.1, delayP99Ms: 1, admitting: true },
      { worker: 1, calls: 5, utilization: 0.1, delayP99Ms: 1, admitting: true },
    ];
    const metrics = createMetrics(parseConfig({}, 'test'));
    metrics.attach({ media: { load: () => loads } as unknown as MediaEngine });
    let m = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(m, 'webphone_media_engine_calls', { worker: '0' })).toBe(7);
    expect(sampleValue(m, 'webphone_media_engine_calls', { worker: '1' })).toBe(5);
    loads[1] = { ...loads[1]!, calls: 0 };
    m = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(m, 'webphone_media_engine_calls', { worker: '1' })).toBe(0);
  });
});
