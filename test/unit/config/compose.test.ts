// docker-compose.yml is for users (Docker is not available here): check it by parsing.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');

describe('docker-compose.yml', () => {
  const doc = parse(readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string; command?: string[]; volumes?: string[]; network_mode?: string }>;
  };

  it('defines a gateway service on a Node 20 image that runs npm start on a config in the repo', () => {
    const gw = doc.services.gateway;
    expect(gw).toBeDefined();
    expect(gw!.image).toMatch(/^node:20/);
    const command = gw!.command!.join(' ');
    expect(command).toContain('npm start');
    const config = /--config \/app\/(\S+)/.exec(command)?.[1];
    expect(config).toBeDefined();
    expect(existsSync(path.join(repo, config!))).toBe(true);
    expect(gw!.volumes).toContain('./:/app');
  });

  it('uses host networking so the RTP port range is reachable', () => {
    expect(doc.services.gateway!.network_mode).toBe('host');
  });
});
