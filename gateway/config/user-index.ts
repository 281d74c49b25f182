// Users by name in O(1): an index built once per users array and kept in a WeakMap keyed on the array
// itself, so a reloaded config (config/live.ts: SIGHUP gives a new users array) gets a fresh index on its
// first lookup and the old one goes with the old array. First entry wins for a repeated name, as find().
import type { GatewayConfig } from './schema.js';

type User = GatewayConfig['users'][number];

const indexes = new WeakMap<readonly User[], Map<string, User>>();

function indexOf(users: readonly User[]): Map<string, User> {
  let index = indexes.get(users);
  if (!index) {
    index = new Map();
    for (const u of users) if (!index.has(u.name)) index.set(u.name, u);
    indexes.set(users, index);
  }
  return index;
}

/** The configured user with this name, or undefined. */
export function userNamed(config: Pick<GatewayConfig, 'users'>, name: string): User | undefined {
  return indexOf(config.users).get(name);
}
