// The HTTP API's OpenAPI document against the router it describes (every route served is documented and
// every documented route is served), its references, the input validation's messages, and the status an
// anonymous client sees (no user name, PBX account or trunk URI).
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { createOperatorApi } from '../../../gateway/http/api/index.js';
import { openApiDocument } from '../../../gateway/http/api/openapi.js';
import { clickToCallBody, describeIssue } from '../../../gateway/http/api/schemas.js';
import { publicStatus } from '../../../gateway/http/api/views.js';

const config = configSchema.parse({ users: [{ name: 'alice', password: 'alice-secret-1' }] });
const logger = createLogger('silent');

/** "GET /api/calls/{id}" for every method of every route in an express router (express's :id → {id}). */
function served(withCdrs: boolean): string[] {
  const api = createOperatorApi({ config, logger, status: () => ({}), service: () => undefined, media: () => undefined, version: '1.2.3', ...(withCdrs && { cdrs: (_q, s) => void s.end() }) });
  const stack = (api.router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }).stack;
  return stack.flatMap((l) => (l.route ? Object.keys(l.route.methods).filter((m) => m !== '_all').map((m) => `${m.toUpperCase()} /api${l.route!.path.replace(/:(\w+)/g, '{$1}')}`) : [])).sort();
}

function documented(withCdrs: boolean): string[] {
  const doc = openApiDocument({ version: '1.2.3', cdrs: withCdrs }) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
}

describe('OpenAPI document', () => {
  it.each([false, true])('lists exactly the routes the router serves (CDRs served: %s)', (withCdrs) => {
    expect(served(withCdrs).length).toBeGreaterThanOrEqual(8);
    expect(documented(withCdrs)).toEqual(served(withCdrs));
  });

  it('is OpenAPI 3.1 with the bearer scheme; every operator operation requires it; every $ref resolves', () => {
    const doc = openApiDocument({ version: '1.2.3', cdrs: true }) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, { security?: object[]; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }>; schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.basic).toMatchObject({ type: 'http', scheme: 'basic' });
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        if (p === '/api/status' || p === '/api/openapi.json') continue;
        // The signed-in page's own endpoints take the user's credentials (Basic), never the operator token.
        if (p.startsWith('/api/me/')) {
          expect(op.security, `${m} ${p}`).toEqual([{ basic: [] }]);
          expect(Object.keys(op.responses), `${m} ${p}`).toContain('401');
          continue;
        }
        expect(op.security, `${m} ${p}`).toEqual([{ bearer: [] }]);
        expect(Object.keys(op.responses), `${m} ${p}`).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(doc.components.schemas[r], r).toBeDefined();
  });
});

describe('click-to-call input', () => {
  const issue = (body: unknown): string | undefined => {
    const r = clickToCallBody.safeParse(body);
    return r.success ? undefined : describeIssue(r.error);
  };

  it('names the field at fault', () => {
    expect(issue({ user: 'alice', number: '+4930123456' })).toBeUndefined();
    expect(issue({ number: '123' })).toBe('user: required');
    expect(issue({ user: 'alice' })).toBe('number: required');
    expect(issue({ user: 'alice', number: '12ab' })).toMatch(/^number: digits/);
    expect(issue({ user: 'alice', number: 5 })).toMatch(/^number: Expected string/);
    expect(issue({ user: '', number: '1' })).toMatch(/^user: /);
    expect(issue({ user: 'alice', number: '1', extra: true })).toBe('extra: unknown field');
    expect(issue('text')).toMatch(/^body: /);
    expect(issue(null)).toMatch(/^body: /);
  });
});

describe('status without authorisation', () => {
  it('keeps counts, version and uptime; drops user names, PBX accounts and trunk URIs', () => {
    const full = {
      calls: 2,
      registrations: 3,
      sip: { udp: { address: '192.0.2.1', port: 5060 } },
      trunks: [
        { name: 'carrier-a', keepalive: { state: 'up' }, health: 'up' },
        { name: 'carrier-b', health: 'down' },
      ],
      upstream: [{ user: 'alice', account: 'sip:alice-pbx@pbx.example', state: 'registered' }],
    };
    const pub = publicStatus(full, '1.2.3', 42);
    expect(pub).toEqual({ version: '1.2.3', uptimeSeconds: 42, calls: 2, registrations: 3, trunks: { total: 2, up: 1 } });
    const text = JSON.stringify(pub);
    for (const secret of ['alice', 'pbx.example', 'carrier', '192.0.2.1']) expect(text).not.toContain(secret);
  });
});
