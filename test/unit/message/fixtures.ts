// Locates the shared public SIP torture-test corpora (../shared/fixtures relative to the repo root).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

export function fixtureDir(name: 'rfc4475' | 'rfc5118'): string | undefined {
  const dir = fileURLToPath(new URL(`../../../../shared/fixtures/${name}`, import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

/** The corpus folder; throws (failing the test) when ../shared/fixtures lacks it. */
export function requireFixtureDir(name: 'rfc4475' | 'rfc5118'): string {
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

/** The bytes after the first empty line. */
export function rawBody(raw: Buffer): Buffer {
  return raw.subarray(raw.indexOf('\r\n\r\n') + 4);
}

/** A describe block over one corpus, opened by a check that every message of the corpus is classified
 *  exactly once. A missing ../shared/fixtures fails (a missing fixture never keeps CI green by skipping). */
export function describeCorpus(
  name: 'rfc4475' | 'rfc5118',
  title: string,
  expected: { count: number; classified: string[] },
  body: (dir: string) => void,
): void {
  const dir = fixtureDir(name);
  if (!dir) {
    describe(title, () => {
      it(`needs ../shared/fixtures/${name} next to the repo`, () => {
        expect.fail(`../shared/fixtures/${name} not found next to the repo: the RFC corpus cannot be checked`);
      });
    });
    return;
  }
  describe(title, () => {
    it(`covers all ${expected.count} messages, each exactly once`, () => {
      const files = fixtureFiles(dir);
      expect(files).toHaveLength(expected.count);
      expect([...expected.classified].sort()).toEqual(files);
    });
    body(dir);
  });
}
