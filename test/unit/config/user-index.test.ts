// Users by name through a per-array index (config/user-index.ts): same answers as a scan, and a reloaded
// config (a new users array) is indexed afresh.
import { describe, expect, it } from 'vitest';
import { userNamed } from '../../../gateway/config/user-index.js';
import type { GatewayConfig } from '../../../gateway/config/schema.js';

type Users = GatewayConfig['users'];
const user = (name: string, password = `${name}-pw`) => ({ name, password }) as unknown as Users[number];

describe('userNamed', () => {
  it('finds what a scan finds (first of a repeated name), undefined for unknown names', () => {
    const users = [user('alice'), user('bob'), user('alice', 'second')] as Users;
    const config = { users };
    for (const name of ['alice', 'bob', 'carol', '', '__proto__', 'constructor']) {
      expect(userNamed(config, name)).toBe(users.find((u) => u.name === name));
    }
  });

  it('a new users array (SIGHUP reload) is seen at once; the old config keeps its own answers', () => {
    const before = { users: [user('alice')] as Users };
    const after = { users: [user('bob')] as Users };
    expect(userNamed(before, 'alice')?.name).toBe('alice');
    expect(userNamed(after, 'alice')).toBeUndefined();
    expect(userNamed(after, 'bob')?.name).toBe('bob');
    expect(userNamed(before, 'bob')).toBeUndefined();
  });
});
