// The embedded media engine's load and admission control (media/admission.ts), read from engine.load() at
// scrape time: per engine thread (label worker: 0 for the gateway's own thread, else the worker thread's
// index) its event-loop utilization and delay p99 over the latest window and whether it admits new calls;
// the thresholds (media.admission); the new calls refused. An engine without load() (rtpengine) exports
// the thresholds only.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GatewayConfig } from '../config/schema.js';
import type { EngineLoad, MediaEngine } from '../media/types.js';

type LoadSource = () => MediaEngine | undefined;

function loadsOf(media: MediaEngine | undefined): EngineLoad[] {
  const load = (media as { load?: () => EngineLoad[] } | undefined)?.load;
  return typeof load === 'function' ? load.call(media) : [];
}

export function mediaLoadMetrics(registry: Registry, config: Pick<GatewayConfig, 'media'>, media: LoadSource): void {
  const registers = [registry];
  const perWorker = (g: Gauge<string>, value: (l: EngineLoad) => number): void => {
    g.reset();
    for (const l of loadsOf(media())) g.set({ worker: String(l.worker) }, value(l));
  };
  new Gauge({
    name: 'webphone_media_engine_loop_utilization', help: 'Share of the latest 0.5 s window each media engine thread\'s event loop was busy (0-1)', labelNames: ['worker'], registers,
    collect() {
      perWorker(this, (l) => l.utilization);
    },
  });
  new Gauge({
    name: 'webphone_media_engine_loop_delay_p99_seconds', help: 'Event-loop delay p99 of each media engine thread over the latest 0.5 s window', labelNames: ['worker'], registers,
    collect() {
      perWorker(this, (l) => l.delayP99Ms / 1000);
    },
  });
  new Gauge({
    name: 'webphone_media_admission_admitting', help: 'Whether each media engine thread admits new calls (0: new calls get 503 + Retry-After)', labelNames: ['worker'], registers,
    collect() {
      perWorker(this, (l) => (l.admitting ? 1 : 0));
    },
  });
  new Gauge({
    name: 'webphone_media_engine_calls', help: 'Live call media sessions per media engine thread (media.workers: where calls were placed)', labelNames: ['worker'], registers,
    collect() {
      perWorker(this, (l) => l.calls);
    },
  });
  /** Each thread's count when last exported: the counter takes the growth (a replaced worker starts at 0). */
  const exported = new Map<number, number>();
  new Counter({
    name: 'webphone_media_admission_refused_total', help: 'New calls the media engine refused while too busy (503 + Retry-After)', registers,
    collect() {
      for (const l of loadsOf(media())) {
        const now = l.refused ?? 0;
        const before = exported.get(l.worker) ?? 0;
        const grown = now >= before ? now - before : now;
        if (grown > 0) this.inc(grown);
        exported.set(l.worker, now);
      }
    },
  });
  const limits = config.media.admission;
  new Gauge({ name: 'webphone_media_admission_max_utilization', help: 'media.admission.maxUtilization: event-loop utilization above which new calls are refused', registers }).set(limits.maxUtilization);
  new Gauge({ name: 'webphone_media_admission_max_delay_seconds', help: 'media.admission.maxDelayMs: event-loop delay p99 above which new calls are refused', registers }).set(limits.maxDelayMs / 1000);
  new Gauge({ name: 'webphone_media_admission_enabled', help: 'media.admission.enabled: 1 when new calls are refused under load', registers }).set(limits.enabled ? 1 : 0);
}
