// Shared test wiring: a layer over a FakeTransport with a silent logger, and recording TU handlers.
import { vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import type { SipResponse } from '../../../gateway/sip/message/types.js';
import { createTransactionLayer } from '../../../gateway/sip/transaction/index.js';
import type { ClientTransactionHandlers, TransactionLayer } from '../../../gateway/sip/transaction/types.js';
import { FakeTransport } from './fake-transport.js';

export interface Harness {
  transport: FakeTransport;
  layer: TransactionLayer;
}

export function harness(): Harness {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  const transport = new FakeTransport();
  const layer = createTransactionLayer({ transport, logger: createLogger('silent') });
  return { transport, layer };
}

export interface RecordingHandlers extends ClientTransactionHandlers {
  responses: SipResponse[];
  timeouts: number[];
  errors: Error[];
}

export function recordingHandlers(): RecordingHandlers {
  const h: RecordingHandlers = {
    responses: [],
    timeouts: [],
    errors: [],
    onResponse: (r) => h.responses.push(r),
    onTimeout: () => h.timeouts.push(Date.now()),
    onTransportError: (e) => h.errors.push(e),
  };
  return h;
}
