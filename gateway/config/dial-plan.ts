// Config of the dial plan's number handling and trunk failover (issue 9 items 3 and 4): rewrite rules,
// trunk routes with failover / load sharing, caller ID presentation and inbound DID normalisation. Every
// key is documented in sip-config/gateway.yaml; the routing code reads them (gateway/routing, gateway/call).
import { z } from 'zod';
import { regexString as regex } from './fields.js';

/** What a rewrite step may produce or add: dialable characters only (no URI escaping games). */
const DIALABLE = /^[0-9A-Za-z+*#]*$/;

/** One step of a number rewrite, applied in order to the dialled number (routing/rewrite.ts):
 *  { strip: N } drops N leading characters; { prepend: "+49" } puts a prefix in front; { match, replace }
 *  replaces the first match of a JS RegExp by a template ($1 … $9, $& as String.replace). */
export const rewriteStepSchema = z.union([
  z.object({ strip: z.number().int().min(1).max(32) }).strict(),
  z.object({ prepend: z.string().min(1).max(32).regex(DIALABLE, 'prepend: digits, letters, + * # only') }).strict(),
  z.object({ match: regex, replace: z.string().max(64).regex(/^[0-9A-Za-z+*#$&]*$/, 'replace: digits, letters, + * # and $1…$9 / $& only') }).strict(),
]);

export const rewriteSchema = z.array(rewriteStepSchema).max(16);

/** A SIP final status (300-699) or a class "3xx" … "6xx". */
export const failoverCodeSchema = z.union([z.number().int().min(300).max(699), z.string().regex(/^[3-6]xx$/, 'expected a status (e.g. 503) or a class "4xx" / "5xx" / "6xx"')]);
export type FailoverCode = z.infer<typeof failoverCodeSchema>;

/** routes[].failoverOn when absent: no answer in time (408) and any server failure. */
export const DEFAULT_FAILOVER_ON: readonly FailoverCode[] = [408, '5xx'];

/** A trunk in a route's list: its name, or { name, weight } (load sharing among consecutive weighted entries). */
export const routeTrunkSchema = z.union([z.string().min(1), z.object({ name: z.string().min(1), weight: z.number().int().min(1).max(1000) }).strict()]);

/** A caller ID the gateway presents: digits with an optional leading + (or a SIP user part). */
export const callerIdSchema = z.string().regex(/^[A-Za-z0-9._~+*#-]{1,64}$/, 'a caller ID is 1-64 of 0-9 A-Z a-z . _ ~ + * # -');

/** { match, trunk } (one trunk) or { match, trunks: [...] } (failover in order, load sharing by weight). */
export const trunkRouteSchema = z
  .object({
    match: regex,
    trunk: z.string().min(1).optional(),
    trunks: z.array(routeTrunkSchema).min(1).max(16).optional(),
    /** Final responses from a trunk that send the call on to the next trunk (besides no response, a
     *  transport error, a challenge we cannot answer; a trunk marked down or at its limit is skipped).
     *  Absent: DEFAULT_FAILOVER_ON. */
    failoverOn: z.array(failoverCodeSchema).optional(),
    /** Rewrite of the number toward the trunk (absent: none). */
    rewrite: rewriteSchema.optional(),
    callerId: callerIdSchema.optional(),
    /** Caller ID withheld on this route (absent: false). */
    privacy: z.boolean().optional(),
  })
  .strict()
  .refine((r) => (r.trunk === undefined) !== (r.trunks === undefined), { message: 'give exactly one of trunk or trunks', path: ['trunks'] });

/** Inbound DID normalisation per trunk (routing/inbound.ts): the number a trunk sends is rewritten, then
 *  (with `country`) brought to E.164 before it is compared with users[].dids (themselves brought to E.164). */
export const inboundSchema = z
  .object({
    rewrite: rewriteSchema.default([]),
    /** E.164 country code without "+", e.g. "49". Absent: no E.164 normalisation. */
    country: z.string().regex(/^[1-9][0-9]{0,2}$/, 'a country code is 1-3 digits, e.g. "49"').optional(),
    /** Trunk prefix of national numbers ("0" in most of Europe, "1" in NANP). */
    nationalPrefix: z.string().regex(/^[0-9]{0,4}$/).default('0'),
    /** Prefix of international numbers ("00" in most of the world, "011" in NANP). */
    internationalPrefix: z.string().regex(/^[0-9]{1,4}$/).default('00'),
  })
  .strict();

export type RewriteStep = z.infer<typeof rewriteStepSchema>;

export type RouteTrunk = z.infer<typeof routeTrunkSchema>;
export type TrunkRouteConfig = z.infer<typeof trunkRouteSchema>;
export type InboundConfig = z.infer<typeof inboundSchema>;
