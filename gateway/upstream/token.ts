// Contact user parts for our upstream registrations.
import { randomBytes } from 'node:crypto';

/** A Contact user part nobody can guess: requests to it can only come from whoever we registered it at. */
export function newContactToken(): string {
  return `gw${randomBytes(8).toString('hex')}`;
}
