// Small zod field types shared by the config blocks (schema.ts, dial-plan.ts, dial-rules.ts).
import { z } from 'zod';

/** A string that compiles as a JS RegExp (route / rewrite / class `match` patterns). */
export const regexString = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');
