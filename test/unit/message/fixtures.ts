// Locates the shared public SIP torture-test corpora (../shared/fixtures relative to the repo root).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

export function fixtureDir(name: 'rfc4475' | 'rfc5118'): string | undefined {
  const dir = fileURLToPath(new URL(`../../../../shared/fixtures/${name}`, import.meta.url));
  return existsSync(dir) ? dir : undefined;
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

/** A describe block over one corpus: skipped with a clear line when ../shared/fixtures lacks it, and
 *  opened by a check that every message of the corpus is classified exactly once. */
export function describeCorpus(
  name: 'rfc4475' | 'rfc5118',
  title: string,
  expected: { count: number; classified: string[] },
  body: (dir: string) => void,
): void {
  const dir = fixtureDir(name);
  if (!dir) {
    describe.skip(`${title} — SKIPPED: ../shared/fixtures/${name} not found next to the repo`, () => {
      it('needs the fixtures', () => {});
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
