// ICE-lite responder for one browser leg (RFC 8445 §2.5): our short-term credentials, the
// browser's, and the answer to each Binding request. We never send checks of our own.
import { randomBytes } from 'node:crypto';
import { handleBindingRequest } from '../stun/index.js';

export interface StunOutcome {
  /** Binding success/error response to send back to the request's source, if any. */
  response?: Buffer;
  /** The request authenticated with our credentials (RFC 8445 §7.3). */
  valid: boolean;
  /** It carried USE-CANDIDATE (RFC 8445 §7.3.1.5: nomination by the controlling agent). */
  useCandidate: boolean;
}

export interface IceLiteAgent {
  readonly localUfrag: string;
  readonly localPwd: string;
  setRemoteCredentials(ufrag: string, pwd: string): void;
  handle(request: Buffer, address: string, port: number): StunOutcome;
}

const NOT_A_CHECK: StunOutcome = Object.freeze({ valid: false, useCandidate: false });

/** RFC 8839 §5.4: ice-ufrag 4+ and ice-pwd 22+ ice-chars (ALPHA / DIGIT / "+" / "/"). */
function iceChars(bytes: number): string {
  return randomBytes(bytes).toString('base64').replace(/=+$/, '');
}

export function createIceLiteAgent(): IceLiteAgent {
  const localUfrag = iceChars(6); // 8 chars
  const localPwd = iceChars(18); // 24 chars
  let remoteUfrag: string | undefined;
  return {
    localUfrag,
    localPwd,
    setRemoteCredentials(ufrag: string) {
      // RFC 8445 §7.2.2: responses are authenticated with the responder's (our) password; the
      // browser's password would only matter for checks we never send.
      remoteUfrag = ufrag;
    },
    handle(request: Buffer, address: string, port: number): StunOutcome {
      const result = handleBindingRequest(request, { address, port }, { localUfrag, localPwd, remoteUfrag });
      if (!result) return NOT_A_CHECK; // not a Binding request, or malformed: silently discarded
      return { response: result.response, valid: result.valid, useCandidate: result.useCandidate };
    },
  };
}
