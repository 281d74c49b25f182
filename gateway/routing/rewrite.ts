// Number rewriting (the dial plan's number handling): a list of steps applied in order to a number —
// strip N leading characters, prepend a prefix, or replace the first match of a regular expression by a
// template (String.prototype.replace: $1 … $9, $&). What the steps may produce is limited to dialable
// characters by the config schema (config/dial-plan.ts), so the result is a plain SIP URI user part.
// Pure; the compiled patterns are cached per step object (configs are immutable once loaded).
import type { RewriteStep } from '../config/dial-plan.js';

const compiled = new WeakMap<object, RegExp>();

function patternOf(step: { match: string }): RegExp {
  let re = compiled.get(step);
  if (!re) {
    re = new RegExp(step.match);
    compiled.set(step, re);
  }
  return re;
}

/** One step. A regex step whose pattern does not match leaves the number as it is. */
export function applyStep(number: string, step: RewriteStep): string {
  if ('strip' in step) return number.slice(step.strip);
  if ('prepend' in step) return step.prepend + number;
  return number.replace(patternOf(step), step.replace);
}

/** The steps in order ("0301234" with [{ strip: 1 }, { prepend: "+4930" }] → "+49301234"). */
export function rewriteNumber(number: string, steps: readonly RewriteStep[] | undefined): string {
  let out = number;
  for (const step of steps ?? []) out = applyStep(out, step);
  return out;
}
