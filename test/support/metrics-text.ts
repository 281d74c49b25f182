// A strict parser of the Prometheus text exposition format (version 0.0.4), for the /metrics tests:
// every line is a # HELP, a # TYPE, another comment, or a sample; names, label names and escapes as the
// format defines them; a family's TYPE before its samples, its samples together; no series twice;
// counters never negative; histograms with cumulative buckets ending at le="+Inf" equal to _count.
// Any violation throws PromParseError naming the line.

export class PromParseError extends Error {}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: Sample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count', ''] };

/** A value as Prometheus reads it (Go's strconv.ParseFloat: NaN and Inf in any letter case; prom-client
 *  writes "Nan" for a gauge that has no reading yet). */
function parseValue(text: string, at: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new PromParseError(`${at}: bad value "${text}"`);
  return Number(text);
}

/** `{a="x",b="y"}` starting at text[i]; returns the labels and the index after '}'. */
function parseLabels(text: string, i: number, at: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new PromParseError(`${at}: label without =`);
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name) || name.startsWith('__')) throw new PromParseError(`${at}: bad label name "${name}"`);
    if (name in labels) throw new PromParseError(`${at}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new PromParseError(`${at}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new PromParseError(`${at}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[j + 1];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else throw new PromParseError(`${at}: bad escape \\${e ?? ''}`);
        j += 2;
        continue;
      }
      if (c === '\n') throw new PromParseError(`${at}: raw newline in label value`);
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new PromParseError(`${at}: expected , or } after label ${name}`);
  }
}

function parseSample(line: string, at: string): Sample {
  const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!m) throw new PromParseError(`${at}: bad metric name`);
  let labels: Record<string, string> = {};
  let i = m[0].length;
  if (line[i] === '{') [labels, i] = parseLabels(line, i, at);
  if (line[i] !== ' ') throw new PromParseError(`${at}: expected a space before the value`);
  const parts = line.slice(i + 1).trim().split(/\s+/);
  if (parts.length > 2) throw new PromParseError(`${at}: trailing text`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new PromParseError(`${at}: bad timestamp`);
  return { name: m[0], labels, value: parseValue(parts[0]!, at) };
}

function familyOf(families: Map<string, Family>, name: string): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const [base, f] of families) for (const s of SUFFIXES[f.type] ?? []) if (s !== '' && name === base + s) return f;
  return undefined;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples.filter((x) => x.name === `${f.name}_bucket`)) {
    if (s.labels.le === undefined) throw new PromParseError(`${f.name}: bucket without le`);
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    let last = -Infinity;
    let prev = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le!, f.name);
      if (le <= last) throw new PromParseError(`${f.name}${key}: buckets not in increasing le`);
      if (b.value < prev) throw new PromParseError(`${f.name}${key}: buckets not cumulative`);
      last = le;
      prev = b.value;
    }
    if (last !== Infinity) throw new PromParseError(`${f.name}${key}: no le="+Inf" bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
    if (!count || count.value !== prev) throw new PromParseError(`${f.name}${key}: _count differs from the +Inf bucket`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: Family | undefined;
  if (text.length > 0 && !text.endsWith('\n')) throw new PromParseError('the exposition must end with a newline');
  text.split('\n').forEach((line, n) => {
    const at = `line ${n + 1}`;
    if (line.trim() === '') return;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!METRIC.test(name!)) throw new PromParseError(`${at}: bad metric name "${name}"`);
      let f = families.get(name!);
      if (f && closed.has(name!)) throw new PromParseError(`${at}: ${kind} for ${name} after its samples`);
      if (!f) families.set(name!, (f = { name: name!, type: 'untyped', samples: [] }));
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (kind === 'TYPE') {
        if (!TYPES.has(rest.trim())) throw new PromParseError(`${at}: unknown type "${rest}"`);
        if (f.samples.length > 0) throw new PromParseError(`${at}: TYPE after samples of ${name}`);
        f.type = rest.trim() as Family['type'];
      } else f.help = rest;
      return;
    }
    if (line.startsWith('#')) return;
    const s = parseSample(line, at);
    const f = familyOf(families, s.name);
    if (!f) throw new PromParseError(`${at}: sample ${s.name} without a TYPE`);
    if (closed.has(f.name)) throw new PromParseError(`${at}: samples of ${f.name} not together`);
    if (current !== f) {
      if (current) closed.add(current.name);
      current = f;
    }
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    if (seen.has(key)) throw new PromParseError(`${at}: series ${key} twice`);
    seen.add(key);
    if (f.type === 'counter' && !(s.value >= 0)) throw new PromParseError(`${at}: counter ${s.name} negative or NaN`);
    f.samples.push(s);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The value of one series (labels matched exactly), 0 when absent. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const f of families.values()) for (const s of f.samples) if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
  return 0;
}

/** The sum of every series of `name` whose labels include `labels`. */
export function sampleSum(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const f of families.values()) for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}
