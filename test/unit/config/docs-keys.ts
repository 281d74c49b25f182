// Walks the zod config schema (gateway/config/schema.ts and the blocks it imports) and lists every key
// a config file may hold, as a path: `sip.limits.maxConnections`, `users[].password.ha1.realm`,
// `routes[].rewrite[].strip`. Record keys (names the operator chooses, e.g. dialRules.costPerMinute's
// classes) are not walked into.
import type { ZodTypeAny } from 'zod';

interface Def {
  typeName?: string;
  innerType?: ZodTypeAny;
  schema?: ZodTypeAny;
  type?: ZodTypeAny;
  in?: ZodTypeAny;
  left?: ZodTypeAny;
  right?: ZodTypeAny;
  options?: ZodTypeAny[] | Map<unknown, ZodTypeAny>;
  getter?: () => ZodTypeAny;
  shape?: () => Record<string, ZodTypeAny>;
}

/** Every key path below `schema`, parents before children, each once. */
export function configKeys(schema: ZodTypeAny, prefix = ''): string[] {
  const out = new Set<string>();
  walk(schema, prefix, out);
  return [...out];
}

function walk(t: ZodTypeAny, path: string, out: Set<string>): void {
  const def = t._def as Def;
  switch (def.typeName) {
    case 'ZodObject':
      for (const [key, child] of Object.entries(def.shape!())) {
        const p = path ? `${path}.${key}` : key;
        out.add(p);
        walk(child, p, out);
      }
      return;
    case 'ZodArray':
      return walk(def.type!, `${path}[]`, out);
    case 'ZodUnion':
    case 'ZodDiscriminatedUnion':
      for (const o of def.options instanceof Map ? def.options.values() : def.options!) walk(o, path, out);
      return;
    case 'ZodIntersection':
      walk(def.left!, path, out);
      return walk(def.right!, path, out);
    case 'ZodOptional':
    case 'ZodNullable':
    case 'ZodDefault':
    case 'ZodCatch':
    case 'ZodReadonly':
      return walk(def.innerType!, path, out);
    case 'ZodEffects':
      return walk(def.schema!, path, out);
    case 'ZodBranded':
      return walk(def.type!, path, out);
    case 'ZodPipeline':
      return walk(def.in!, path, out);
    case 'ZodLazy':
      return walk(def.getter!(), path, out);
    default:
      return; // a leaf (string, number, enum, literal, record …)
  }
}
