// A scripted stand-in for sip.js (UserAgent, Registerer, Inviter/Invitation sessions) for the Phone
// unit tests: each test drives the callbacks sip.js would call. Used as vi.mock('sip.js') factory.
import { vi } from 'vitest';

class Emitter {
  private fns: Array<(s: string) => void> = [];
  addListener(fn: (s: string) => void): void {
    this.fns.push(fn);
  }
  emit(s: string): void {
    for (const fn of this.fns) fn(s);
  }
}
class UserAgent {
  static last: UserAgent;
  static refuse = false;
  transport = { onMessage: (_m: string) => undefined };
  start = vi.fn(async () => {
    if (UserAgent.refuse) throw new Error('WebSocket closed (code: 1006)');
  });
  reconnect = vi.fn(async () => {
    if (UserAgent.refuse) throw new Error('WebSocket closed (code: 1006)');
  });
  stop = vi.fn(async () => undefined);
  constructor(readonly options: any) {
    UserAgent.last = this;
  }
  static makeURI(s: string) {
    return /^sip:[^@\s]+@[^@\s]+$/.test(s) ? { text: s } : undefined;
  }
}
class Registerer {
  static last: Registerer;
  stateChange = new Emitter();
  register = vi.fn(async (_o?: any) => undefined);
  unregister = vi.fn(async () => undefined);
  constructor() {
    Registerer.last = this;
  }
}
/** The peer connection sip.js's session description handler owns: only what the page watches on it. */
class PeerConnection extends EventTarget {
  id = 'pc';
  iceConnectionState = 'connected';
  signalingState = 'stable';
  setLocalDescription = vi.fn(async (d: { type: string }) => {
    if (d.type === 'rollback') this.signalingState = 'stable';
  });
  /** Moves the ICE state as the browser would, with its event. */
  iceState(state: 'connected' | 'disconnected' | 'failed' | 'checking'): void {
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }
}
class Session {
  stateChange = new Emitter();
  delegate: any;
  sessionDescriptionHandler = {
    peerConnection: new PeerConnection(),
    remoteMediaStream: { id: 'remote' },
    sendDtmf: vi.fn(() => true),
    enableSenderTracks: vi.fn((_on: boolean) => undefined),
    enableReceiverTracks: vi.fn((_on: boolean) => undefined),
  };
  /** sip.js Session.sessionDescriptionHandlerOptionsReInvite: used for every later offer and answer. */
  sessionDescriptionHandlerOptionsReInvite: any = {};
  /** Session.invite (a re-INVITE once established; Inviter's first call is the initial INVITE). */
  invite = vi.fn(async (_o?: any) => undefined);
  bye = vi.fn(async () => undefined);
  cancel = vi.fn(async () => undefined);
  accept = vi.fn(async (_o?: any) => undefined);
  reject = vi.fn(async (_o?: any) => undefined);
  remoteIdentity = { displayName: '', uri: { user: '+15550100' } };
  /** Raw header lines of the INVITE (an Invitation's `request`). */
  headers: Record<string, string[]> = {};
  request = {
    getHeader: (name: string) => this.headers[name.toLowerCase()]?.[0],
    getHeaders: (name: string) => this.headers[name.toLowerCase()] ?? [],
  };
}
class Inviter extends Session {
  static last: Inviter;
  constructor(
    _ua: unknown,
    readonly target: { text: string },
  ) {
    super();
    Inviter.last = this;
  }
}
export const fakeSipJs = {
  UserAgent,
  Registerer,
  Inviter,
  Session,
  RegistererState: { Registered: 'Registered' },
  SessionState: { Established: 'Established', Terminated: 'Terminated' },
};
