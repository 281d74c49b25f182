// A call's voice quality per side, as the media engine measured it (media/quality.ts): the legs of the
// call's established media session matched to its caller and callee by the SIP tag each leg faces. Read
// live (API/status) or at the end for the call record: the engines keep a call's last figures for a while
// after its media is deleted. Policy only: the figures are the media layer's.
import type { CallQuality, LegQuality } from '../media/quality.js';
import type { MediaEngine } from '../media/types.js';
import type { Call } from './call.js';

export type { CallQuality, LegQuality, QualitySummary } from '../media/quality.js';

export interface CallSidesQuality {
  caller?: LegQuality;
  callee?: LegQuality;
  source: CallQuality['source'];
}

/** The quality of `call`'s established session per side; undefined before it was answered, with an
 *  engine that cannot tell, or when the engine no longer knows the session. */
export async function callQuality(call: Call, engine: MediaEngine): Promise<CallSidesQuality | undefined> {
  const session = call.session;
  if (!session || !engine.quality) return undefined;
  const q = await engine.quality(session.media.key);
  if (!q) return undefined;
  const byTag = (tag: string) => q.legs.find((l) => l.tag === tag);
  const out: CallSidesQuality = { source: q.source };
  const [caller, callee] = [byTag(session.caller.tag), byTag(session.callee.tag)];
  if (caller) out.caller = caller;
  if (callee) out.callee = callee;
  return out;
}

/** One side's figures as a call record keeps them (gateway/cdr LegQuality columns): what the gateway
 *  received from that party — packets, lost, jitter — the round trip to it and the MOS of its audio as
 *  received. null where unknown. */
export interface RecordLegQuality {
  packets: number | null;
  lost: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  mos: number | null;
}

export function recordLegQuality(leg: LegQuality | undefined): RecordLegQuality {
  if (!leg) return { packets: null, lost: null, jitterMs: null, rttMs: null, mos: null };
  return { packets: leg.in.packets, lost: leg.in.lost, jitterMs: leg.in.jitterMs, rttMs: leg.rttMs, mos: leg.in.mos };
}

/** Synchronously, with an engine that can (the embedded one: live figures, or the final ones once its media
 *  was deleted); undefined otherwise — the call record is written in the call's 'ended' event. */
export function recordQualityNow(call: Call, engine: MediaEngine): { caller: RecordLegQuality; callee: RecordLegQuality } | undefined {
  const session = call.session;
  const now = (engine as Partial<{ qualityNow(callId: string): CallQuality | undefined }>).qualityNow;
  if (!session || typeof now !== 'function') return undefined;
  const q = now.call(engine, session.media.key);
  if (!q) return undefined;
  const byTag = (tag: string) => q.legs.find((l) => l.tag === tag);
  return { caller: recordLegQuality(byTag(session.caller.tag)), callee: recordLegQuality(byTag(session.callee.tag)) };
}

/** Both sides for a call record; undefined when nothing is known. */
export async function recordQuality(call: Call, engine: MediaEngine): Promise<{ caller: RecordLegQuality; callee: RecordLegQuality } | undefined> {
  const q = await callQuality(call, engine).catch(() => undefined);
  if (!q) return undefined;
  return { caller: recordLegQuality(q.caller), callee: recordLegQuality(q.callee) };
}
