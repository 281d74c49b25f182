import { describe, expect, it } from 'vitest';
import { transition } from '../../../gateway/sip/transport/conn-state.js';
import { offeredSubprotocols } from '../../../gateway/sip/transport/ws.js';

describe('connection state machine', () => {
  it('allows connecting → open → closed and connecting → closed', () => {
    expect(transition('connecting', 'open')).toBe('open');
    expect(transition('open', 'closed')).toBe('closed');
    expect(transition('connecting', 'closed')).toBe('closed');
  });
  it('rejects illegal edges', () => {
    expect(() => transition('closed', 'open')).toThrow(/closed -> open/);
    expect(() => transition('open', 'connecting')).toThrow(/illegal/);
    expect(() => transition('open', 'open')).toThrow(/illegal/);
  });
});

describe('offeredSubprotocols', () => {
  it('splits the Sec-WebSocket-Protocol list', () => {
    expect(offeredSubprotocols('chat, sip')).toEqual(['chat', 'sip']);
    expect(offeredSubprotocols(['a', 'sip,b'])).toEqual(['a', 'sip', 'b']);
    expect(offeredSubprotocols(undefined)).toEqual([]);
    expect(offeredSubprotocols(' , ')).toEqual([]);
  });
});
