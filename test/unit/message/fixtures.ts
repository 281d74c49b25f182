// Locates the shared public SIP torture-test corpora (../shared/fixtures relative to the repo root).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
