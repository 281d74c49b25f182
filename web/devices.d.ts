// Types for devices.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function levelFromSamples(samples: ArrayLike<number>): number;
export declare function deviceOptions(
  devices: ReadonlyArray<{ kind: string; deviceId: string; label: string }>,
  kind: 'audioinput' | 'audiooutput',
): Array<{ id: string; label: string }>;
export declare function audioConstraints<C extends { audio?: unknown; video?: unknown }>(constraints: C, micId: string): C;
