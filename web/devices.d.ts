// Types for devices.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function levelFromSamples(samples: ArrayLike<number>): number;
export declare function deviceOptions(
  devices: ReadonlyArray<{ kind: string; deviceId: string; label: string }>,
  kind: 'audioinput' | 'audiooutput',
): Array<{ id: string; label: string }>;
export declare function audioConstraints<C extends { audio?: unknown; video?: unknown }>(constraints: C, micId: string): C;
export declare class Devices extends EventTarget {
  micId: string;
  speakerId: string;
  readonly canChooseSpeaker: boolean;
  mediaStreamFactory(): (constraints: any) => Promise<any>;
  list(): Promise<{ mics: Array<{ id: string; label: string }>; speakers: Array<{ id: string; label: string }> }>;
  setMic(id: string, pcs: ReadonlyArray<any>): Promise<void>;
  setSpeaker(id: string, elements: ReadonlyArray<any>): Promise<void>;
  applySpeaker(elements: ReadonlyArray<any>): Promise<void>;
}
export declare class LevelMeter {
  constructor(meter: any);
  attach(track: any): void;
  detach(): void;
}
