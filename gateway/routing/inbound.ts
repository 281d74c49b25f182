// Inbound DID normalisation: a trunk may send the same number as "0049301234", "49301234", "+49301234" or
// "0301234". With trunks[].inbound (config/dial-plan.ts) the number is rewritten, then brought to E.164
// (ITU-T E.164 / RFC 3966 §5.1.4 global numbers: "+" country code national number) before it is compared
// with users[].dids, which are brought to E.164 by the same rule. Pure.
import type { InboundConfig } from '../config/dial-plan.js';
import { rewriteNumber } from './rewrite.js';

/** E.164 form of `number` under `rule` (with a country code): "+…" is kept; the international prefix
 *  ("00") becomes "+"; the national prefix ("0") becomes "+<country>"; a number starting with the
 *  country code itself is taken as E.164 without its "+"; anything else (an extension) is unchanged. */
export function toE164(number: string, rule: Pick<InboundConfig, 'country' | 'nationalPrefix' | 'internationalPrefix'>): string {
  const { country } = rule;
  if (country === undefined || number.startsWith('+') || !/^[0-9]+$/.test(number)) return number;
  if (number.startsWith(rule.internationalPrefix)) return `+${number.slice(rule.internationalPrefix.length)}`;
  if (rule.nationalPrefix !== '' && number.startsWith(rule.nationalPrefix)) return `+${country}${number.slice(rule.nationalPrefix.length)}`;
  if (number.startsWith(country)) return `+${number}`;
  return number;
}

/** The number a trunk sent, as the dial plan compares it: the trunk's inbound rewrite, then E.164. */
export function normalizeInbound(number: string, rule: InboundConfig | undefined): string {
  if (!rule) return number;
  return toE164(rewriteNumber(number, rule.rewrite), rule);
}

/** A configured DID under the same rule (no rewrite: DIDs are written by the operator). */
export function normalizeDid(did: string, rule: InboundConfig | undefined): string {
  return rule ? toE164(did, rule) : did;
}
