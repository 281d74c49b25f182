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
  /** Record the browser's credentials from its SDP; true when they differ from the previous ones
   *  (RFC 8839 §4.4.3.1.1: a changed a=ice-ufrag or a=ice-pwd means the peer restarts ICE). */
  setRemoteCredentials(ufrag: string, pwd: string): boolean;
  /** New local credentials: an ICE restart changes the ufrag and password of both agents (RFC 8445
   *  §9, RFC 8839 §4.4.3.1), so our answer to it carries new ones. Checks with the old ones fail. */
  restart(): void;
  handle(request: Buffer, address: string, port: number): StunOutcome;
}

const NOT_A_CHECK: StunOutcome = Object.freeze({ valid: false, useCandidate: false });

/** RFC 8839 §5.4: ice-ufrag 4+ and ice-pwd 22+ ice-chars (ALPHA / DIGIT / "+" / "/"). */
function iceChars(bytes: number): string {
  return randomBytes(bytes).toString('base64').replace(/=+$/, '');
}

export function createIceLiteAgent(): IceLiteAgent {
  const creds: { localUfrag: string; localPwd: string; remoteUfrag?: string } = {
    localUfrag: iceChars(6), // 8 chars
    localPwd: iceChars(18), // 24 chars
  };
  let remotePwd: string | undefined;
  return {
    get localUfrag() {
      return creds.localUfrag;
    },
    get localPwd() {
      return creds.localPwd;
    },
    setRemoteCredentials(ufrag: string, pwd: string): boolean {
      // RFC 8445 §7.2.2: responses are authenticated with the responder's (our) password; the
      // browser's password would only matter for checks we never send.
      const changed = creds.remoteUfrag !== undefined && (creds.remoteUfrag !== ufrag || remotePwd !== pwd);
      creds.remoteUfrag = ufrag;
      remotePwd = pwd;
      return changed;
    },
    restart() {
      creds.localUfrag = iceChars(6);
      creds.localPwd = iceChars(18);
    },
    handle(request: Buffer, address: string, port: number): StunOutcome {
      const result = handleBindingRequest(request, { address, port }, creds);
      if (!result) return NOT_A_CHECK; // not a Binding request, or malformed: silently discarded
      return { response: result.response, valid: result.valid, useCandidate: result.useCandidate };
    },
  };
}
