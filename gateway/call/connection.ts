// One side of a call reached over a connection (a browser's WebSocket, a phone's TCP/TLS): B2BUA policy for
// a lost connection. RFC 7118 §5: a WebSocket client "is reachable only over the WebSocket connection",
// so a closed one leaves that side unreachable. While the call rings this ends it at once (as before);
// once answered the call is kept for calls.reconnectGrace seconds (FreeSWITCH Verto's detach timeout):
// the other leg hears nothing, the media stays. A re-INVITE (or UPDATE) of the same dialog arriving on
// another connection moves the side there (RFC 5626 §4.4.1: a UA whose flow failed forms a new one; the
// web page re-REGISTERs and re-INVITEs with an ICE restart) — within the grace, or before a half-open old
// connection was even noticed. When the grace runs out the call ends with BYE and REASON_CONNECTION_LOST.
import { defineMachine, StateMachine } from '../lib/state-machine.js';
import type { Logger } from '../log.js';
import type { Flow } from '../sip/transport/types.js';

/** RFC 3326 §2: "SIP ;cause=480" — the lost side is Temporarily Unavailable (RFC 3261 §21.4.18: "the
 *  callee's end system was contacted successfully but the callee is currently unavailable"). */
export const REASON_CONNECTION_LOST = 'SIP;cause=480;text="Connection lost"';

/** connected: the side's connection is open · lost: it closed, the grace runs · gone: the grace ran out
 *  (or the call ended). A new connection brings `lost` (or a half-open `connected`) back to connected. */
export type ConnectionState = 'connected' | 'lost' | 'gone';

export const CONNECTION_MACHINE = defineMachine<ConnectionState>('Connection', {
  connected: ['connected', 'lost', 'gone'],
  lost: ['connected', 'gone'],
  gone: [],
});

export interface ConnectionWatchOptions {
  /** calls.reconnectGrace in ms; 0 ends an answered call at once. */
  graceMs: number;
  /** Read when the connection closes: only an answered call is kept. */
  answered(): boolean;
  /** The connection closed while the call was unanswered: end the call now. */
  onClosedUnanswered(): void;
  /** The grace ran out: end the call with BYE + REASON_CONNECTION_LOST. */
  onGraceOver(): void;
  /** The side moved to `flow` (the usage must send there from now on). */
  onMoved(flow: Flow): void;
  log: Logger;
}

/** A connection is a stream (WS, WSS, TCP, TLS): only those close, and only those can be replaced. */
const isStream = (flow: Flow): boolean => flow.transport !== 'udp';

export class ConnectionWatch {
  private readonly fsm = new StateMachine(CONNECTION_MACHINE, 'connected');
  private current: Flow;
  private unwatch: () => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    flow: Flow,
    private readonly o: ConnectionWatchOptions,
  ) {
    this.current = flow;
    this.watch(flow);
  }

  get state(): ConnectionState {
    return this.fsm.state;
  }

  get flow(): Flow {
    return this.current;
  }

  /** A session modification of this side's dialog arrived on `flow`: when it is another connection, the
   *  side moves there (true). False (nothing changes) for the same flow, UDP, or once gone. */
  adopt(flow: Flow): boolean {
    if (this.fsm.state === 'gone' || flow.id === this.current.id || !isStream(flow) || !isStream(this.current) || !flow.alive) return false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unwatch();
    const was = this.fsm.state;
    this.current = flow;
    this.fsm.to('connected');
    this.watch(flow);
    this.o.log.info({ flow: flow.id, was }, 'connection replaced: the call continues on the new one');
    this.o.onMoved(flow);
    return true;
  }

  /** The call ended: stop watching, stop the grace timer. Idempotent. */
  close(): void {
    if (this.fsm.state === 'gone') return;
    this.fsm.to('gone');
    clearTimeout(this.timer);
    this.unwatch();
  }

  private watch(flow: Flow): void {
    this.unwatch = flow.onClose(() => this.closed(flow));
  }

  private closed(flow: Flow): void {
    if (flow.id !== this.current.id || this.fsm.state !== 'connected') return;
    if (!this.o.answered()) {
      this.o.log.info('connection closed');
      this.close();
      return this.o.onClosedUnanswered();
    }
    if (this.o.graceMs <= 0) {
      this.close();
      return this.o.onGraceOver();
    }
    this.fsm.to('lost');
    this.o.log.info({ graceMs: this.o.graceMs }, 'connection lost: the call is kept for a reconnect');
    this.timer = setTimeout(() => {
      this.o.log.info('not reconnected within the grace period');
      this.close();
      this.o.onGraceOver();
    }, this.o.graceMs);
  }
}
