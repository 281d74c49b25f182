// The shared public SIP torture-test corpora (../shared/fixtures relative to the repo root), without any
// test-runner import: the unit tests (test/unit/message/fixtures.ts re-exports these) and bench/fuzz.ts.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type CorpusName = 'rfc4475' | 'rfc5118';

export function fixtureDir(name: CorpusName): string | undefined {
  const dir = fileURLToPath(new URL(`../../../shared/fixtures/${name}`, import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

/** The corpus folder; throws (failing the test) when ../shared/fixtures lacks it. */
export function requireFixtureDir(name: CorpusName): string {
  const dir = fixtureDir(name);
  if (!dir) throw new Error(`../shared/fixtures/${name} not found next to the repo: the RFC corpus cannot be checked`);
  return dir;
}

export function fixtureFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.dat')).sort();
}

export function readFixture(dir: string, file: string): Buffer {
  return readFileSync(`${dir}/${file}`);
}
