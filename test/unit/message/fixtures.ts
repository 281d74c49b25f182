// Locates the shared public SIP torture-test corpora (../shared/fixtures relative to the repo root).
import { describe, expect, it } from 'vitest';
import { fixtureDir, fixtureFiles, readFixture, requireFixtureDir } from '../../support/fixtures.js';

export { fixtureDir, fixtureFiles, readFixture, requireFixtureDir };

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
