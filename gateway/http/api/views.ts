// What the HTTP API answers, shaped from the gateway's own objects (pure): the status an anonymous client
// may see (counts only: no user name, PBX account or trunk URI), a call in the list and in detail, a
// registered contact, a trunk. The field names are the OpenAPI document's (openapi.ts).
import { clickToCallPhase } from '../../call/index.js';
import type { Binding } from '../../registrar/index.js';
import type { BookedCall } from './book.js';

/** GET /api/status without authorisation: figures that identify no one. */
export interface PublicStatus {
  version: string;
  uptimeSeconds: number;
  calls: number;
  registrations: number;
  trunks: { total: number; up: number };
}

interface TrunkLike {
  state?: string;
  health?: string;
  keepalive?: { state?: string };
}

/** A trunk counts as up unless its keep-alive says down or its registration is failing (retrying). */
function trunkUp(t: TrunkLike): boolean {
  const health = t.health ?? t.keepalive?.state;
  return health !== 'down' && t.state !== 'retrying';
}

export function publicStatus(full: Record<string, unknown>, version: string, uptimeSeconds: number): PublicStatus {
  const trunks = Array.isArray(full.trunks) ? (full.trunks as TrunkLike[]) : [];
  return {
    version,
    uptimeSeconds,
    calls: typeof full.calls === 'number' ? full.calls : 0,
    registrations: typeof full.registrations === 'number' ? full.registrations : 0,
    trunks: { total: trunks.length, up: trunks.filter(trunkUp).length },
  };
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export interface CallSummary {
  id: string;
  state: string;
  direction: string;
  caller: { user?: string; number: string };
  callee: { user?: string; number: string };
  trunk?: string;
  startedAt: string;
  answeredAt?: string;
  /** Seconds since the answer (0 while unanswered). */
  durationSeconds: number;
  /** Click-to-call (POST /api/calls) only: ringing-user, dialling, connected. */
  clickToCall?: string;
}

export function callSummary(b: BookedCall, now: number): CallSummary {
  const { call, start } = b;
  const callee = call.parties.callee;
  // The trunk that answered (failover may have moved on from the first planned one), else the planned one.
  const trunk = callee?.kind === 'trunk' ? callee.trunk.name : start.trunk;
  const phase = clickToCallPhase(call);
  return {
    id: call.id,
    state: call.state,
    direction: start.direction,
    caller: { ...(start.callerUser !== undefined && { user: start.callerUser }), number: start.callerNumber },
    callee: { ...(start.calleeUser !== undefined && { user: start.calleeUser }), number: start.calleeNumber },
    ...(trunk !== undefined && { trunk }),
    startedAt: iso(b.startedAt)!,
    ...(b.answeredAt !== undefined && { answeredAt: iso(b.answeredAt) }),
    durationSeconds: b.answeredAt === undefined ? 0 : Math.max(0, Math.round((now - b.answeredAt) / 100) / 10),
    ...(phase && { clickToCall: phase }),
  };
}

export interface RegistrationView {
  user: string;
  contact: string;
  transport: string;
  source: string;
  instance?: string;
  expiresAt: string;
  expiresInSeconds: number;
}

export function registrationView(b: Binding, now: number): RegistrationView {
  const host = b.source.address.includes(':') ? `[${b.source.address}]` : b.source.address;
  return {
    user: b.user,
    contact: b.contactText,
    transport: b.transport,
    source: `${host}:${b.source.port}`,
    ...(b.instance !== undefined && { instance: b.instance }),
    expiresAt: iso(b.expiresAt)!,
    expiresInSeconds: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
  };
}

/** A trunk as /api/status lists it (registration, keep-alive, failover counters) with its URI. */
export function trunkView(status: Record<string, unknown>, uri: string | undefined): Record<string, unknown> {
  return { ...status, ...(uri !== undefined && { uri }), up: trunkUp(status as TrunkLike) };
}
