// Flow objects handed to upper layers. Each carries an internal write(); upper layers only see `Flow`.
import { transition, type ConnState } from './conn-state.js';
import type { Address, Flow, TransportKind } from './types.js';

let nextFlowNumber = 1;

/** A short unique id: "tcp#12". */
export function newFlowId(kind: TransportKind): string {
  return `${kind}#${nextFlowNumber++}`;
}

export abstract class BaseFlow implements Flow {
  private readonly closeListeners = new Set<() => void>();

  constructor(
    readonly id: string,
    readonly transport: TransportKind,
    readonly local: Address,
    readonly remote: Address,
    readonly reliable: boolean,
  ) {}

  abstract get alive(): boolean;

  /** The bound address unless a transport knows better (its listening point's advertised address). */
  get sentBy(): Address {
    return { ...this.local };
  }

  /** Put bytes on the wire; rejects with TransportError. */
  abstract write(data: Buffer): Promise<void>;

  /** Something above (a registration, a call) watches this flow's close: it is in use even when quiet. */
  get bound(): boolean {
    return this.closeListeners.size > 0;
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }

  /** Call listeners once; a throwing listener must not stop the others (nor the socket handler). */
  protected fireClose(onListenerError: (err: unknown) => void): void {
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const listener of listeners) {
      try {
        listener();
      } catch (err) {
        onListenerError(err);
      }
    }
  }
}

/** A stream flow (TCP, WS) with the explicit connecting → open → closed machine. */
export abstract class ConnectionFlow extends BaseFlow {
  private state: ConnState;

  constructor(
    id: string,
    transport: TransportKind,
    local: Address,
    remote: Address,
    initial: ConnState,
    private readonly onListenerError: (err: unknown) => void,
  ) {
    super(id, transport, local, remote, true);
    this.state = initial;
  }

  get alive(): boolean {
    return this.state === 'open';
  }

  get connState(): ConnState {
    return this.state;
  }

  markOpen(): void {
    this.state = transition(this.state, 'open');
  }

  /** Idempotent: closing an already-closed flow is a no-op (sockets emit close after error). */
  markClosed(): void {
    if (this.state === 'closed') return;
    this.state = transition(this.state, 'closed');
    this.fireClose(this.onListenerError);
  }
}
