// Reads a V8 heap snapshot (.heapsnapshot) and sums it by constructor: self size and count per
// constructor (objects by their constructor's name, strings together, other node types by type and
// name), and the retained size of chosen constructors — everything that would become unreachable
// if all their instances went (a breadth-first walk from the GC roots that does not enter them, nor
// follow weak edges). Used by bench/mem-calls.ts to compare two snapshots per call.
import { readFileSync } from 'node:fs';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Summary {
  /** Per group: bytes (self size) and instance count. */
  groups: Map<string, { bytes: number; count: number }>;
  /** Retained bytes of all instances of each constructor asked for. */
  retained: Map<string, number>;
  /** What each of those retains, by group (bytes). */
  retainedGroups: Map<string, Map<string, number>>;
  totalBytes: number;
}

function groupOf(type: string, name: string): string {
  if (type === 'object') return name;
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') return '(string)';
  if (type === 'closure') return '(closure)';
  if (type === 'code') return '(code)';
  return `(${type}) ${name.length > 40 ? `${name.slice(0, 40)}…` : name}`;
}

export function summarise(file: string, retainedOf: readonly string[] = []): Summary {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const meta = raw.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [nType, nName, nSize, nEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
  const [eType, eTo] = ['type', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const nodeTypes = meta.node_types[0];
  const weak = meta.edge_types[0].indexOf('weak');
  const { nodes, edges, strings } = raw;
  const count = nodes.length / nf;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) firstEdge[i + 1] = firstEdge[i]! + nodes[i * nf + nEdges!]! * ef;
  const groups = new Map<string, { bytes: number; count: number }>();
  let totalBytes = 0;
  const groupName: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const g = groupOf(nodeTypes[nodes[i * nf + nType!]!]!, strings[nodes[i * nf + nName!]!]!);
    groupName[i] = g;
    const size = nodes[i * nf + nSize!]!;
    totalBytes += size;
    const entry = groups.get(g) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count++;
    groups.set(g, entry);
  }
  /** Bytes reachable from the root (node 0) without entering `skip`. */
  const reachable = (skip: string | undefined): Uint8Array => {
    const seen = new Uint8Array(count);
    const stack = [0];
    seen[0] = 1;
    while (stack.length) {
      const n = stack.pop()!;
      for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += ef) {
        if (edges[e + eType!] === weak) continue;
        const to = edges[e + eTo!]! / nf;
        if (seen[to] || groupName[to] === skip) continue;
        seen[to] = 1;
        stack.push(to);
      }
    }
    return seen;
  };
  const all = reachable(undefined);
  const retained = new Map<string, number>();
  const retainedGroups = new Map<string, Map<string, number>>();
  for (const name of retainedOf) {
    const without = reachable(name);
    let bytes = 0;
    const byGroup = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      if (!all[i] || without[i]) continue;
      const size = nodes[i * nf + nSize!]!;
      bytes += size;
      byGroup.set(groupName[i]!, (byGroup.get(groupName[i]!) ?? 0) + size);
    }
    retained.set(name, bytes);
    retainedGroups.set(name, byGroup);
  }
  return { groups, retained, retainedGroups, totalBytes };
}
