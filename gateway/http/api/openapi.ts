// The OpenAPI 3.1 document of the HTTP API, served at GET /api/openapi.json. Every route the API router
// serves is here and nothing else (test/unit/http/api-openapi.test.ts compares the two).
const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const AUTH = {
  '401': { ...error('No or a wrong bearer token (api.token configured)'), headers: { 'WWW-Authenticate': { schema: { type: 'string', examples: ['Bearer realm="webphone-gateway"'] } } } },
  '403': error('No api.token configured and the client is not on loopback'),
};

const CALL_ID = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The call id from GET /api/calls' };

const party = { type: 'object', required: ['number'], properties: { user: { type: 'string', description: 'A users[].name' }, number: { type: 'string' } } };

const schemas = {
  Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
  PublicStatus: {
    type: 'object',
    description: 'What any client sees: counts only, no user name, PBX account or trunk URI.',
    required: ['version', 'uptimeSeconds', 'calls', 'registrations', 'trunks'],
    properties: {
      version: { type: 'string' },
      uptimeSeconds: { type: 'number' },
      calls: { type: 'integer' },
      registrations: { type: 'integer' },
      trunks: { type: 'object', required: ['total', 'up'], properties: { total: { type: 'integer' }, up: { type: 'integer' } } },
    },
  },
  Status: {
    description: 'With authorisation: the public figures plus SIP listening points, trunks (registration, keep-alive, failover counters), upstream PBX accounts per user and the call policy.',
    allOf: [
      ref('PublicStatus'),
      {
        type: 'object',
        properties: {
          sip: { type: 'object', additionalProperties: { type: 'object', properties: { address: { type: 'string' }, port: { type: 'integer' } } } },
          trunks: { type: 'array', items: ref('Trunk') },
          trunkCount: { type: 'object', properties: { total: { type: 'integer' }, up: { type: 'integer' } } },
          upstream: { type: 'array', items: { type: 'object', properties: { user: { type: 'string' }, account: { type: 'string' }, state: { type: 'string' }, lastError: { type: 'string' } } } },
          policy: { type: 'object' },
        },
      },
    ],
  },
  CallSummary: {
    type: 'object',
    required: ['id', 'state', 'direction', 'caller', 'callee', 'startedAt', 'durationSeconds'],
    properties: {
      id: { type: 'string' },
      state: { type: 'string', enum: ['routing', 'calling', 'ringing', 'early', 'connecting', 'answered'] },
      direction: { type: 'string', enum: ['outbound', 'inbound', 'internal'] },
      caller: party,
      callee: party,
      trunk: { type: 'string' },
      startedAt: { type: 'string', format: 'date-time' },
      answeredAt: { type: 'string', format: 'date-time' },
      durationSeconds: { type: 'number', description: 'Seconds since the answer; 0 while unanswered' },
      clickToCall: { type: 'string', enum: ['ringing-user', 'dialling', 'connected'], description: 'Calls placed by POST /api/calls only' },
    },
  },
  CallDetail: {
    allOf: [
      ref('CallSummary'),
      {
        type: 'object',
        properties: {
          parties: { type: 'object', description: 'Who is on each side: {kind: user, user} or {kind: trunk, trunk}' },
          media: {
            type: 'object',
            properties: {
              packets: { type: 'object', description: 'Per leg (media tag): packetsIn, packetsOut, bytesIn, bytesOut, packetsRejected' },
              quality: { type: 'object', description: 'Live quality per side from RTCP where the media engine reports it: {source, caller, callee}, each leg with in/out packets, loss, jitter, round trip and MOS' },
            },
          },
        },
      },
    ],
  },
  ClickToCall: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'number'],
    properties: {
      user: { type: 'string', minLength: 1, maxLength: 64, description: 'The user whose phones ring first' },
      number: { type: 'string', minLength: 1, maxLength: 32, pattern: '^\\+?[0-9*#]+$', description: 'Dialled under the user\'s rights once they answer' },
    },
  },
  ClickToCallAccepted: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, href: { type: 'string' } } },
  Registration: {
    type: 'object',
    required: ['user', 'contact', 'transport', 'source', 'expiresAt', 'expiresInSeconds'],
    properties: {
      user: { type: 'string' },
      contact: { type: 'string' },
      transport: { type: 'string', enum: ['udp', 'tcp', 'tls', 'ws', 'wss'] },
      source: { type: 'string', description: 'address:port the REGISTER came from' },
      instance: { type: 'string' },
      expiresAt: { type: 'string', format: 'date-time' },
      expiresInSeconds: { type: 'integer' },
    },
  },
  Trunk: {
    type: 'object',
    required: ['name', 'up'],
    properties: {
      name: { type: 'string' },
      uri: { type: 'string' },
      up: { type: 'boolean' },
      state: { type: 'string', description: 'Registration state (trunks[].register)' },
      expiresAt: { type: 'string' },
      lastError: { type: 'string' },
      keepalive: { type: 'object', description: 'OPTIONS keep-alive (trunks[].keepalive): state, interval, lastCode, rtt' },
      health: { type: 'string', enum: ['unknown', 'up', 'down'] },
      calls: { type: 'object', description: 'Failover counters: attempts, answered, failed …' },
    },
  },
};

const direction = {
  type: 'object',
  required: ['packets', 'lost', 'lossPercent', 'intervalLossPercent', 'jitterMs', 'mos'],
  properties: {
    packets: { type: 'integer', description: 'RTP packets received (in) or sent (out)' },
    lost: { type: ['integer', 'null'], description: 'RFC 3550 cumulative packets lost (out: from the party\'s receiver reports; null before one)' },
    lossPercent: { type: ['number', 'null'], description: 'Lost / expected × 100 over the call so far' },
    intervalLossPercent: { type: ['number', 'null'], description: 'Loss in the latest RTCP report interval (fraction lost × 100)' },
    jitterMs: { type: ['number', 'null'], description: 'RFC 3550 A.8 interarrival jitter' },
    mos: { type: ['number', 'null'], description: 'Estimated MOS (ITU-T G.107 simplified) of this direction' },
  },
};

/** GET /api/me/calls (me.ts). */
const userSchemas = {
  SideFigures: {
    type: 'object',
    description: 'One side of a call as the gateway measures it: in = what the gateway received from that party, out = what that party reported (RTCP) receiving from the gateway',
    required: ['in', 'out', 'rttMs'],
    properties: { in: direction, out: direction, rttMs: { type: ['number', 'null'], description: 'Round trip gateway ⇄ that party (RTCP LSR/DLSR)' }, codec: { type: 'string' } },
  },
  MyCall: {
    type: 'object',
    description: 'One of the signed-in user\'s calls in progress (the side they are on)',
    required: ['side', 'state', 'direction', 'peer', 'durationSeconds'],
    properties: {
      callId: { type: 'string', description: 'The SIP Call-ID of the user\'s own leg (their sip.js session\'s); absent until known (an incoming call still ringing)' },
      side: { type: 'string', enum: ['caller', 'callee'] },
      state: { type: 'string', enum: ['routing', 'calling', 'ringing', 'early', 'connecting', 'answered'] },
      direction: { type: 'string', enum: ['outbound', 'inbound', 'internal'] },
      peer: { type: 'string', description: 'The other party\'s number or user name' },
      answeredAt: { type: 'string', format: 'date-time' },
      durationSeconds: { type: 'integer' },
      quality: {
        type: 'object',
        description: 'Once answered, where the media engine reports it: you = the user\'s own leg, far = the other party\'s',
        required: ['source'],
        properties: { source: { type: 'string', enum: ['embedded', 'rtpengine'] }, you: ref('SideFigures'), far: ref('SideFigures') },
      },
    },
  },
};

/** Endpoints for the signed-in page (Basic with the user's own credentials), not the operator. */
const USER_PATHS: Record<string, object> = {
  '/api/me/calls': {
    get: {
      summary: 'The signed-in user\'s calls, with the gateway\'s figures for both sides',
      description: 'HTTP Basic with the user\'s own name and password (or a device token from POST /api/device-tokens), as GET /api/ice-servers; a failure counts toward the authentication lockout (security.authFailures). Only calls the user is a party of; only their own leg\'s Call-ID.',
      security: [{ basic: [] }],
      responses: {
        '200': { description: 'Oldest first; [] without calls', content: json({ type: 'array', items: ref('MyCall') }) },
        '401': error('No, wrong or locked-out credentials (no WWW-Authenticate: the page shows its own sign-in error)'),
      },
    },
  },
};

export interface OpenApiOptions {
  version: string;
  /** GET /api/cdrs is served (by gateway/cdr) through this router. */
  cdrs: boolean;
}

const authed = { security: [{ bearer: [] }] };

/** Every path the router always serves. */
const PATHS: Record<string, object> = {
  '/api/status': {
    get: {
      summary: 'Gateway status',
      description: 'Anyone gets the public figures; with the bearer token (or, with no api.token configured, from loopback) the full status.',
      security: [{}, { bearer: [] }],
      responses: { '200': { description: 'Status', content: json({ oneOf: [ref('Status'), ref('PublicStatus')] }) } },
    },
  },
  '/api/openapi.json': { get: { summary: 'This document', security: [{}], responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } } },
  '/api/calls': {
    get: { summary: 'Calls in progress', ...authed, responses: { '200': { description: 'Oldest first', content: json({ type: 'array', items: ref('CallSummary') }) }, ...AUTH } },
    post: {
      summary: 'Click-to-call',
      description: 'Rings the user\'s registered browsers and phones (caller ID "Call to <number>"); when one answers, dials the number through the dial plan under the user\'s rights (dial rules, failover) and joins the two.',
      ...authed,
      requestBody: { required: true, content: json(ref('ClickToCall')) },
      responses: {
        '202': { description: 'The user\'s phones are ringing; follow the call at href', headers: { Location: { schema: { type: 'string' } } }, content: json(ref('ClickToCallAccepted')) },
        '400': error('Bad JSON or a bad field (named)'),
        ...AUTH,
        '403': {
          description: 'Loopback only without api.token; or a dial rule refused the number (error: its reason, rule: its name)',
          content: json({ allOf: [ref('Error'), { type: 'object', properties: { rule: { type: 'string' } } }] }),
        },
        '404': error('No such user, or no route for the number'),
        '409': error('The user has no registered phone, or is busy'),
        '422': error('The number is the echo line or a local user'),
        '501': error('The media engine cannot join two legs (media.engine: rtpengine)'),
      },
    },
  },
  '/api/calls/{id}': {
    get: { summary: 'One call, with live media figures', ...authed, parameters: [CALL_ID], responses: { '200': { description: 'The call', content: json(ref('CallDetail')) }, '404': error('No such call in progress'), ...AUTH } },
    delete: {
      summary: 'Hang up',
      description: 'Ends the call: BYE (or CANCEL while ringing) on both legs with Reason: Q.850;cause=16;text="Ended by operator".',
      ...authed,
      parameters: [CALL_ID],
      responses: { '204': { description: 'Ended' }, '404': error('No such call in progress'), ...AUTH },
    },
  },
  '/api/registrations': { get: { summary: 'Registered contacts', ...authed, responses: { '200': { description: 'Every contact of every user', content: json({ type: 'array', items: ref('Registration') }) }, ...AUTH } } },
  '/api/trunks': { get: { summary: 'Trunk states', ...authed, responses: { '200': { description: 'Registration, keep-alive, health and counters per trunk', content: json({ type: 'array', items: ref('Trunk') }) }, ...AUTH } } },
};

/** GET /api/cdrs, when gateway/cdr gives its handler. */
const CDRS = {
  '/api/cdrs': {
    get: {
      summary: 'Call detail records',
      ...authed,
      parameters: ['from', 'to', 'user', 'number', 'limit', 'format'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
      responses: { '200': { description: 'JSON array, or CSV with format=csv', content: { ...json({ type: 'array', items: { type: 'object' } }), 'text/csv': { schema: { type: 'string' } } } }, '400': error('A bad query parameter'), ...AUTH },
    },
  },
};

function paths(o: OpenApiOptions): Record<string, object> {
  return { ...PATHS, ...(o.cdrs ? CDRS : {}), ...USER_PATHS };
}

export function openApiDocument(o: OpenApiOptions): object {
  return {
    openapi: '3.1.0',
    info: { title: 'webphone-gateway HTTP API', version: o.version, description: 'Operator API (README "HTTP API"), and /api/me/* for the signed-in page. Errors are JSON {error}.' },
    paths: paths(o),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'api.token from the config. Without one, only loopback clients are served.' },
        basic: { type: 'http', scheme: 'basic', description: 'A gateway user\'s own name and password (or device token): the page\'s sign-in, /api/me/* only.' },
      },
      schemas: { ...schemas, ...userSchemas },
    },
  };
}
