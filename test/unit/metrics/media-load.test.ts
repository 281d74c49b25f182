// The media engine's load and admission metrics (gateway/metrics/media-load.ts), read from a fake engine's
// load() at scrape time: per-worker gauges, the thresholds from media.admission, and the refused counter
// taking each worker's growth (a replaced worker starting again at 0 adds, never subtracts).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { createMetrics } from '../../../gateway/metrics/index.js';
import type { EngineLoad, MediaEngine } from '../../../gateway/media/types.js';
import { parsePrometheusText, sampleValue } from '../../support/metrics-text.js';

function fakeEngine(loads: EngineLoad[]): MediaEngine & { loads: EngineLoad[] } {
  return { loads, load: () => loads } as unknown as MediaEngine & { loads: EngineLoad[] };
}

describe('media admission metrics', () => {
  it('per-worker utilization, delay p99 (seconds), admitting; thresholds; refused as growth', async () => {
    const metrics = createMetrics(parseConfig({ media: { admission: { maxUtilization: 0.8, maxDelayMs: 40 } } }, 'test'));
    const engine = fakeEngine([
      { worker: 0, calls: 10, utilization: 0.95, delayP99Ms: 120, admitting: false, refused: 4 },
      { worker: 1, calls: 3, utilization: 0.2, delayP99Ms: 2, admitting: true, refused: 0 },
    ]);
    metrics.attach({ media: engine });
    let m = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(m, 'webphone_media_engine_loop_utilization', { worker: '0' })).toBe(0.95);
    expect(sampleValue(m, 'webphone_media_engine_loop_delay_p99_seconds', { worker: '0' })).toBe(0.12);
    expect(sampleValue(m, 'webphone_media_admission_admitting', { worker: '0' })).toBe(0);
    expect(sampleValue(m, 'webphone_media_admission_admitting', { worker: '1' })).toBe(1);
    expect(sampleValue(m, 'webphone_media_admission_max_utilization')).toBe(0.8);
    expect(sampleValue(m, 'webphone_media_admission_max_delay_seconds')).toBe(0.04);
    expect(sampleValue(m, 'webphone_media_admission_enabled')).toBe(1);
    expect(sampleValue(m, 'webphone_media_admission_refused_total')).toBe(4);

    engine.loads[0] = { ...engine.loads[0]!, refused: 6 };
    engine.loads[1] = { ...engine.loads[1]!, refused: 1 };
    m = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(m, 'webphone_media_admission_refused_total')).toBe(7);
    engine.loads[0] = { ...engine.loads[0]!, refused: 2 }; // worker 0 replaced: its count starts again
    m = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(m, 'webphone_media_admission_refused_total')).toBe(9);
  });

  it('an engine without load() (rtpengine): only the thresholds', async () => {
    const metrics = createMetrics(parseConfig({}, 'test'));
    metrics.attach({ media: {} as MediaEngine });
    const m = parsePrometheusText(await metrics.registry.metrics());
    expect(m.get('webphone_media_engine_loop_utilization')?.samples ?? []).toEqual([]);
    expect(sampleValue(m, 'webphone_media_admission_max_utilization')).toBe(0.9);
    expect(sampleValue(m, 'webphone_media_admission_refused_total')).toBe(0);
  });
});
