// Input of the HTTP API, validated once with zod: a bad field is answered 400 naming it (README "HTTP API").
import { z } from 'zod';

/** POST /api/calls: click-to-call. */
export const clickToCallBody = z
  .object({
    /** A users[].name. */
    user: z.string().trim().min(1).max(64),
    /** What the user would dial: digits, an optional leading +, * and #. */
    number: z
      .string()
      .trim()
      .min(1)
      .max(32)
      .regex(/^\+?[0-9*#]+$/, 'digits, * and # only (an optional leading +)'),
  })
  .strict();

export type ClickToCallBody = z.infer<typeof clickToCallBody>;

/** The first problem of a failed parse, naming its field: "number: digits, * and # only …". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  if (issue.code === 'unrecognized_keys') return `${issue.keys.join(', ')}: unknown field`;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  const message = issue.code === 'invalid_type' && issue.received === 'undefined' ? 'required' : issue.message;
  return `${field}: ${message}`;
}
