// Header field names: compact forms (RFC 3261 §7.3.3 and the IANA SIP header registry) and the
// canonical capitalisation of known headers. Names are case-insensitive (RFC 3261 §7.3.1).

/** IANA "Header Fields" registry compact forms. */
const COMPACT: Record<string, string> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

const KNOWN = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Diversion',
  'Error-Info', 'Event', 'Expires', 'From', 'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To',
  'Max-Forwards', 'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization', 'Path', 'P-Asserted-Identity',
  'P-Preferred-Identity', 'Priority', 'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization',
  'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By', 'Reject-Contact',
  'Replaces', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Security-Client',
  'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag',
  'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Target-Dialog', 'Timestamp', 'To',
  'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];

const CANONICAL = new Map<string, string>();
for (const name of KNOWN) CANONICAL.set(name.toLowerCase(), name);
for (const [short, long] of Object.entries(COMPACT)) CANONICAL.set(short, long);

/** The canonical name and the key of every known name as it is usually written: canonical ("Call-ID"),
 *  lower case, compact ("i", "I"). The parser stores canonical names, so nearly every look-up of a field
 *  by name is one map hit with no lower-casing (which, per field per look-up, showed in the profile at
 *  carrier rates); any other spelling takes the lower-casing path below. */
const EXACT = new Map<string, { canonical: string; key: string }>();
for (const [lower, canonical] of CANONICAL) {
  const entry = { canonical, key: canonical.toLowerCase() };
  for (const spelling of [lower, canonical, lower.toUpperCase()]) EXACT.set(spelling, entry);
}

/** Canonical long form of a header name: compact forms expanded, known headers capitalised as in
 *  their RFCs ("call-id" → "Call-ID", "v" → "Via"); unknown names are returned unchanged. */
export function canonicalName(name: string): string {
  return EXACT.get(name)?.canonical ?? CANONICAL.get(name.toLowerCase()) ?? name;
}

/** RFC 3261 §7.3.3's compact forms (long name, lower-cased → its letter): only these, which every
 *  RFC 3261 implementation "MUST accept" — not the later IANA additions an older peer may not know. */
const RFC3261_COMPACT = new Map<string, string>(
  ['i', 'm', 'e', 'l', 'c', 'f', 's', 'k', 't', 'v'].map((short) => [COMPACT[short]!.toLowerCase(), short]),
);

/** The RFC 3261 compact form of a header name ("Via" → "v"), else its canonical long form. */
export function compactName(name: string): string {
  const long = canonicalName(name);
  return RFC3261_COMPACT.get(long.toLowerCase()) ?? long;
}

/** Lower-cased canonical name: the key for case-insensitive comparisons. */
export function nameKey(name: string): string {
  return EXACT.get(name)?.key ?? canonicalName(name).toLowerCase();
}

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1: `header = name: value *(, value)`).
 *  Never split: WWW-Authenticate, Authorization, Proxy-Authenticate, Proxy-Authorization (commas inside
 *  challenges/credentials), Date, and every header not listed here. */
const LIST = new Set(
  [
    'Via', 'Contact', 'Route', 'Record-Route', 'Allow', 'Supported', 'Require', 'Proxy-Require',
    'Unsupported', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Content-Encoding', 'Content-Language',
    'Allow-Events', 'In-Reply-To', 'Alert-Info', 'Call-Info', 'Error-Info', 'Warning', 'Path',
    'Service-Route', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Reason', 'Security-Client',
    'Security-Server', 'Security-Verify', 'Accept-Contact', 'Reject-Contact', 'Request-Disposition',
    'History-Info', 'Diversion',
  ].map((n) => n.toLowerCase()),
);

export function isListHeader(name: string): boolean {
  return LIST.has(nameKey(name));
}
