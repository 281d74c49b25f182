import { describe, expect, it } from 'vitest';
import { IllegalTransition, regTransition, type RegState } from '../../../gateway/upstream/states.js';
import { parseUlDump } from '../../support/kamailio.js';

describe('registration state machine', () => {
  it.each<[RegState, RegState]>([
    ['idle', 'registering'],
    ['registering', 'registered'],
    ['registering', 'retrying'],
    ['registered', 'registering'],
    ['retrying', 'registering'],
    ['registered', 'unregistering'],
    ['unregistering', 'stopped'],
  ])('allows %s → %s', (from, to) => {
    expect(regTransition(from, to)).toBe(to);
  });

  it.each<[RegState, RegState]>([
    ['idle', 'registered'],
    ['retrying', 'registered'],
    ['unregistering', 'registering'],
    ['stopped', 'registering'],
    ['idle', 'unregistering'],
  ])('rejects %s → %s', (from, to) => {
    expect(() => regTransition(from, to)).toThrow(IllegalTransition);
  });
});

describe('parseUlDump (kamcmd ul.dump text)', () => {
  it('reads AORs, contact addresses and expiries', () => {
    const text = `{
	Domains: {
		Domain: {
			Domain: location
			Size: 1024
			AoRs: {
				Info: {
					AoR: alice1
					HashID: 123
					Contacts: {
						Contact: {
							Address: sip:gwabc@127.0.0.1:5070
							Expires: 598
							Q: -1
						}
					}
				}
			}
		}
	}
}`;
    expect(parseUlDump(text)).toEqual(new Map([['alice1', [{ address: 'sip:gwabc@127.0.0.1:5070', expires: 598 }]]]));
  });
});
