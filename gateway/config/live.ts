// The running configuration, replaceable while the gateway runs (SIGHUP, gateway/config/reload.ts).
//
//   const live = createLiveConfig(config);
//   live.view        a GatewayConfig whose top-level keys always read the CURRENT configuration: the
//                    modules built at start keep this one object (its identity never changes) and see a
//                    reloaded users/routes/trunks list on their next read — per request, per call.
//   live.get()       the current configuration as a plain object
//   live.replace(c)  make `c` current, then tell every listener
//   live.onChange(fn)  fn(current, previous) after each replace; returns an unsubscribe function
//
// A module that derives state from the configuration once (the trunk ACL's addresses, the dial-rule
// classifier) subscribes with onChange and derives it again.
import type { GatewayConfig } from './schema.js';

export type ConfigListener = (current: GatewayConfig, previous: GatewayConfig) => void;

export interface LiveConfig {
  readonly view: GatewayConfig;
  get(): GatewayConfig;
  replace(next: GatewayConfig): void;
  onChange(listener: ConfigListener): () => void;
}

export function createLiveConfig(initial: GatewayConfig): LiveConfig {
  let current = initial;
  const listeners = new Set<ConfigListener>();
  // Getters, not a copy: `{ ...view }` and JSON still see plain enumerable keys.
  const view = {} as GatewayConfig;
  for (const key of Object.keys(initial) as Array<keyof GatewayConfig>) {
    Object.defineProperty(view, key, { enumerable: true, get: () => current[key] });
  }
  return {
    view,
    get: () => current,
    replace(next) {
      const previous = current;
      current = next;
      for (const listener of [...listeners]) listener(current, previous);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
