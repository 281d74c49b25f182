// UAS core: request validation before any method-specific work (RFC 3261 §8.2) and answering requests.
import { checkUriScheme, createResponse, getHeaderValues, getMaxForwards, getTo, newTag } from '../message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../message/types.js';
import type { ServerTransaction } from '../transaction/types.js';
import { USER_AGENT } from './request.js';

/** The methods this gateway implements (RFC 3261 §20.5 Allow). */
export const ALLOWED_METHODS: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'REFER', 'INFO'];

/** Allow on our INVITEs and their 2xx: the methods of ALLOWED_METHODS usable inside a dialog (RFC 3311
 *  §5.1: a UA that supports UPDATE lists it, so the peer may send one). */
export const INVITE_ALLOW = ALLOWED_METHODS.filter((m) => m !== 'REGISTER').join(', ');

/** Option tags we implement (RFC 3261 §19.2); Require of anything else → 420. 100rel: RFC 3262
 *  reliable provisional responses (sip/ua/reliable-provisional.ts, used by the invite usages); timer:
 *  RFC 4028 session timers (sip/ua/session-timer.ts, call/session-timers.ts); replaces: RFC 3891 (sip/ua/
 *  replaces.ts); norefersub: RFC 4488 Refer-Sub: false (sip/ua/refer.ts). */
export const SUPPORTED_EXTENSIONS: readonly string[] = ['100rel', 'timer', 'replaces', 'norefersub'];

export interface Rejection {
  status: number;
  reason: string;
  headers: HeaderField[];
}

const URI_SCHEMES = ['sip', 'sips', 'tel'];

function reject(status: number, reason: string, headers: HeaderField[] = []): Rejection {
  return { status, reason, headers };
}

/** The §8.2 checks in the order the RFC gives them; undefined when the request may proceed.
 *  ACK is never rejected (§17: an ACK gets no response). */
export function validateRequest(req: SipRequest, supported: readonly string[] = SUPPORTED_EXTENSIONS): Rejection | undefined {
  if (req.method === 'ACK') return undefined;
  // §8.2.1: "If a UAS does not support the method … it MUST generate a 405 (Method Not Allowed) response.
  // … The UAS MUST also add an Allow header field to the 405 response."
  if (!ALLOWED_METHODS.includes(req.method)) {
    return reject(405, 'Method Not Allowed', [{ name: 'Allow', value: ALLOWED_METHODS.join(', ') }]);
  }
  // §16.3 item 2 (applied by this B2BUA, which forwards INVITEs): Max-Forwards 0 → 483 Too Many Hops;
  // "If the request is an OPTIONS request, the element MAY act as the final recipient … and respond."
  if (req.method !== 'OPTIONS' && getMaxForwards(req) === 0) return reject(483, 'Too Many Hops');
  // §8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject the request
  // with a 416 (Unsupported URI Scheme) response." (The parser already checked the URI's syntax.)
  const badScheme = checkUriScheme(req, URI_SCHEMES);
  if (badScheme) return reject(416, 'Unsupported URI Scheme');
  // §8.2.2.3: "If a UAS does not understand an option-tag listed in a Require header field, it MUST respond
  // by generating a response with status code 420 (Bad Extension). The UAS MUST add an Unsupported header
  // field, and list in it those options it does not understand". Not for CANCEL (§9.1 / §8.2.2.3).
  if (req.method !== 'CANCEL') {
    const unknown = getHeaderValues(req, 'Require')
      .map((t) => t.trim())
      .filter((t) => t !== '' && !supported.includes(t.toLowerCase()));
    if (unknown.length > 0) return reject(420, 'Bad Extension', [{ name: 'Unsupported', value: unknown.join(', ') }]);
  }
  return undefined;
}

export interface ReplyOptions {
  headers?: HeaderField[];
  body?: Buffer;
  contentType?: string;
  /** Our To tag; a fresh one when the request has none (§8.2.6.2: "the UAS MUST add a tag to the To
   *  header field in the response (with the exception of the 100 (Trying) response)"). */
  toTag?: string;
}

/** A response to `req` per §8.2.6, with our User-Agent (Server) identification. */
export function buildReply(req: SipRequest, status: number, reason: string, o: ReplyOptions = {}): SipResponse {
  const hasTag = getTo(req).params.tag !== undefined;
  const toTag = status === 100 || hasTag ? undefined : (o.toTag ?? newTag());
  return createResponse(req, status, reason, {
    toTag,
    headers: [{ name: 'Server', value: USER_AGENT }, ...(o.headers ?? [])],
    body: o.body,
    contentType: o.contentType,
  });
}

/** Answer on a server transaction. Never throws (the transaction layer reports send failures itself). */
export function reply(tx: ServerTransaction, status: number, reason: string, o: ReplyOptions = {}): void {
  tx.respond(buildReply(tx.request, status, reason, o));
}

/** RFC 3261 §11.2: the response to OPTIONS lists Allow, Accept, Accept-Encoding, Accept-Language and
 *  Supported; used as a keep-alive ping by trunks and browsers. */
export function optionsReply(req: SipRequest): SipResponse {
  return buildReply(req, 200, 'OK', {
    headers: [
      { name: 'Allow', value: ALLOWED_METHODS.join(', ') },
      { name: 'Accept', value: 'application/sdp' },
      { name: 'Accept-Encoding', value: 'identity' },
      { name: 'Accept-Language', value: 'en' },
    ],
  });
}
