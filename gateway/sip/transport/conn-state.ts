// The life cycle of one stream connection (TCP now, TLS/WS share it).
//   connecting ──► open ──► closed
//        └──────────────────► closed   (connect failed / timed out)

export type ConnState = 'connecting' | 'open' | 'closed';

const EDGES: Readonly<Record<ConnState, readonly ConnState[]>> = {
  connecting: ['open', 'closed'],
  open: ['closed'],
  closed: [],
};

/** The single transition function: returns the new state or throws on an illegal edge. */
export function transition(from: ConnState, to: ConnState): ConnState {
  if (!EDGES[from].includes(to)) {
    throw new Error(`illegal connection transition ${from} -> ${to}`);
  }
  return to;
}
