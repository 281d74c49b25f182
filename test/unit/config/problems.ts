// The problems a config is refused with ([] when it is valid): what the config unit tests assert on.
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';

export function configProblems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'test.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
