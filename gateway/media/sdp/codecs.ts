// Codec selection for a produced offer, and matching an answer against it.
// Payload type numbers are kept as the offerer wrote them so payloads relay unchanged.
import { MediaError } from '../types.js';
import type { Codec } from './model.js';

/** Encodings that carry no audio of their own: they ride along with an audio codec of equal clock rate. */
const AUXILIARY = new Set(['telephone-event', 'cn']);

function isAuxiliary(codec: Codec): boolean {
  return AUXILIARY.has(codec.name.toLowerCase());
}

/** The offer's codecs restricted to `allowed` (matched case-insensitively, in the allowed list's
 *  preference order; entries of one name keep the offer's order). RFC 4733 §2.1: telephone-event uses
 *  the clock rate of the audio codec, so auxiliary entries whose rate matches no chosen audio codec are
 *  dropped (e.g. Chrome's telephone-event/48000 when only G.711 remains). */
export function selectOfferCodecs(offered: readonly Codec[], allowed?: readonly string[]): Codec[] {
  const picked = allowed ? byPreference(offered, allowed) : [...offered];
  const audio = picked.filter((c) => !isAuxiliary(c));
  if (audio.length === 0) {
    const names = offered.map((c) => `${c.name}/${c.rate}`).join(', ') || 'none';
    const want = allowed ? allowed.join(', ') : 'any audio codec';
    throw new MediaError('no-common-codec', `offer has ${names}; allowed: ${want}`);
  }
  const rates = new Set(audio.map((c) => c.rate));
  return picked.filter((c) => !isAuxiliary(c) || rates.has(c.rate));
}

function byPreference(offered: readonly Codec[], allowed: readonly string[]): Codec[] {
  const result: Codec[] = [];
  for (const name of allowed) {
    const wanted = name.toLowerCase();
    for (const codec of offered) {
      if (codec.name.toLowerCase() === wanted && !result.includes(codec)) result.push(codec);
    }
  }
  return result;
}

function sameEncoding(a: Codec, b: Codec): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.rate === b.rate && (a.channels ?? 1) === (b.channels ?? 1);
}

export interface CodecMatch {
  /** The answered codecs, renumbered to the payload types of the offer they answer. */
  codecs: Codec[];
  /** answerer PT → offerer PT, only for numbers the answerer changed. */
  answerToOffer: Map<number, number>;
}

/** Match an answer's codecs to the offer they answer (RFC 3264 §6.1: the answerer SHOULD reuse the
 *  offer's payload type numbers; if it did not, the relay maps them in place). Answered codecs that
 *  were never offered are ignored; no common audio codec → MediaError('no-common-codec'). */
export function matchAnswerCodecs(offered: readonly Codec[], answered: readonly Codec[]): CodecMatch {
  const codecs: Codec[] = [];
  const answerToOffer = new Map<number, number>();
  for (const answer of answered) {
    const offer =
      offered.find((o) => o.pt === answer.pt && sameEncoding(o, answer)) ?? offered.find((o) => sameEncoding(o, answer));
    if (!offer || codecs.some((c) => c.pt === offer.pt)) continue;
    codecs.push(answer.fmtp !== undefined ? { ...offer, fmtp: answer.fmtp } : { ...offer });
    if (offer.pt !== answer.pt) answerToOffer.set(answer.pt, offer.pt);
  }
  if (!codecs.some((c) => !isAuxiliary(c))) {
    throw new MediaError('no-common-codec', `answer has no audio codec of the offer (${describe(answered)} vs ${describe(offered)})`);
  }
  return { codecs, answerToOffer };
}

function describe(codecs: readonly Codec[]): string {
  return codecs.map((c) => `${c.pt} ${c.name}/${c.rate}`).join(', ') || 'none';
}

/** A 128-entry payload-type map for the per-packet path; undefined when it would be the identity. */
export function ptTable(map: ReadonlyMap<number, number>): Uint8Array | undefined {
  if (map.size === 0) return undefined;
  const table = new Uint8Array(128);
  for (let pt = 0; pt < 128; pt++) table[pt] = pt;
  for (const [from, to] of map) table[from] = to;
  return table;
}

export function invert(map: ReadonlyMap<number, number>): Map<number, number> {
  const inverse = new Map<number, number>();
  for (const [from, to] of map) inverse.set(to, from);
  return inverse;
}
