// The optional `turn` section: ICE server URIs (RFC 7064 / RFC 7065), the shared secret and the credential lifetime.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { configProblems } from './problems.js';

const problems = (turn: unknown): string[] => configProblems({ turn });

describe('config: turn', () => {
  it('is optional, and ttl defaults to 3600 s', () => {
    expect(parseConfig({}, 'gw.yaml').turn).toBeUndefined();
    const cfg = parseConfig({ turn: { urls: ['turn:turn.example.com'], secret: 'x' } }, 'gw.yaml');
    expect(cfg.turn).toEqual({ urls: ['turn:turn.example.com'], secret: 'x', ttl: 3600 });
  });

  it.each([
    'turn:203.0.113.40:3478?transport=udp',
    'turn:203.0.113.40:3478?transport=tcp',
    'turns:turn.example.com:5349?transport=tcp',
    'turn:[2001:db8::40]:3478',
    'stun:203.0.113.40:3478',
    'stun:stun.example.com',
  ])('accepts %s', (url) => {
    expect(problems({ urls: [url], secret: 'x' })).toEqual([]);
  });

  it.each([
    ['http://203.0.113.40:3478', 'turn.urls[0]: expected "turn:host[:port]'],
    ['turn:203.0.113.40:3478?transport=sctp', 'turn.urls[0]: expected'],
    ['stun:203.0.113.40:3478?transport=udp', 'turn.urls[0]: expected'],
    ['turn:', 'turn.urls[0]: expected'],
    ['turn:203.0.113.40:99999', 'turn.urls[0]: port must be 0-65535'],
  ])('rejects %s, naming the key', (url, message) => {
    expect(problems({ urls: ['turn:203.0.113.40', url], secret: 'x' }).join('\n')).toContain(message.replace('[0]', '[1]'));
  });

  it('requires urls and a secret, and bounds ttl to 60..86400 s', () => {
    expect(problems({ urls: [], secret: 'x' }).join('\n')).toMatch(/^turn\.urls: /);
    expect(problems({ urls: ['turn:a'] }).join('\n')).toMatch(/^turn\.secret: /);
    expect(problems({ urls: ['turn:a'], secret: '' }).join('\n')).toMatch(/^turn\.secret: /);
    expect(problems({ urls: ['turn:a'], secret: 'x', ttl: 59 }).join('\n')).toMatch(/^turn\.ttl: /);
    expect(problems({ urls: ['turn:a'], secret: 'x', ttl: 86401 }).join('\n')).toMatch(/^turn\.ttl: /);
    expect(problems({ urls: ['turn:a'], secret: 'x', ttl: 90.5 }).join('\n')).toMatch(/^turn\.ttl: /);
    expect(problems({ urls: ['turn:a'], secret: 'x', password: 'p' }).join('\n')).toContain('turn: unknown key "password"');
  });
});
