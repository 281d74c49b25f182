// The one configuration file (YAML), validated once at start. Every key is documented in
// sip-config/gateway.yaml. Errors name the file and the key (see load.ts).
import { z } from 'zod';

const portInRange = (s: string): boolean => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535;

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d{1,5})$/, 'expected "host:port", e.g. "127.0.0.1:8080"')
  .refine(portInRange, 'port must be 0-65535');

/** "udp:127.0.0.1:5060" | "tcp:127.0.0.1:5060" */
const sipListen = z
  .string()
  .regex(/^(udp|tcp):(\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d{1,5})$/, 'expected "udp|tcp:host:port", e.g. "udp:127.0.0.1:5060"')
  .refine(portInRange, 'port must be 0-65535');

const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'expected "from-to", e.g. "20000-20999"')
  .refine((s) => {
    const [from, to] = s.split('-').map(Number) as [number, number];
    return from >= 1024 && to <= 65535 && to - from >= 3;
  }, 'range must lie within 1024-65535 and hold at least 4 ports');

const regex = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

export const userSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._~+-]{1,64}$/, 'user names are 1-64 of A-Z a-z 0-9 . _ ~ + -'),
    password: z.string().min(1),
    callerId: z.string().min(1).optional(),
  })
  .strict();

export const trunkSchema = z
  .object({
    name: z.string().min(1),
    uri: z.string().regex(/^sips?:/, 'expected a sip: URI, e.g. "sip:trunk.example.com:5060;transport=udp"'),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
  })
  .strict();

export const routeSchema = z.union([
  z.object({ match: regex, trunk: z.string().min(1) }).strict(),
  z.object({ match: regex, echo: z.literal(true) }).strict(),
]);

export const configSchema = z
  .object({
    http: z.object({ listen: hostPort.default('127.0.0.1:8080') }).strict().default({}),
    sip: z
      .object({
        listen: z.array(sipListen).min(1).default(['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060']),
        domain: z.string().min(1).optional(),
        realm: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    media: z
      .object({
        rtpPorts: portRange.default('20000-20999'),
        address: z.string().min(1).default('127.0.0.1'),
        advertiseAddress: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    users: z.array(userSchema).default([]),
    trunks: z.array(trunkSchema).default([]),
    routes: z.array(routeSchema).default([]),
    calls: z
      .object({
        /** Seconds a call may ring before the gateway gives up (480 / CANCEL). */
        ringTimeout: z.number().int().min(5).max(600).default(60),
      })
      .strict()
      .default({}),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).strict().default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const trunkNames = new Set(cfg.trunks.map((t) => t.name));
    cfg.routes.forEach((r, i) => {
      if ('trunk' in r && !trunkNames.has(r.trunk)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'trunk'], message: `no trunk named "${r.trunk}" in trunks` });
      }
    });
    const seen = new Set<string>();
    cfg.users.forEach((u, i) => {
      if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user "${u.name}"` });
      seen.add(u.name);
    });
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type UserConfig = z.infer<typeof userSchema>;
export type TrunkConfig = z.infer<typeof trunkSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
