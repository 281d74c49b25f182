// Human text for why a call or a registration ended. Pure module: unit-tested.

/** RFC 3261 §21 status codes a caller commonly meets, in words a caller understands. */
const STATUS_TEXT = Object.freeze({
  400: 'Bad Request',
  401: 'Wrong user or password',
  403: 'Forbidden',
  404: 'No route',
  407: 'Wrong user or password',
  408: 'Request Timeout',
  410: 'Number gone',
  480: 'Unavailable',
  481: 'Call does not exist',
  484: 'Incomplete number',
  486: 'Busy',
  487: 'Cancelled',
  488: 'Not acceptable here',
  500: 'Server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
  600: 'Busy everywhere',
  603: 'Declined',
  604: 'Does not exist anywhere',
});

/**
 * "Busy (486)", "No route (404)", "Request Timeout (408)"; an unknown code uses the response's
 * reason phrase, or "Failed".
 * @param {number} code
 * @param {string} [phrase]
 */
export function statusReason(code, phrase) {
  if (!Number.isInteger(code) || code < 100 || code > 699) return 'Failed';
  const known = /** @type {Record<number, string>} */ (STATUS_TEXT)[code];
  const text = known || String(phrase ?? '').trim() || 'Failed';
  return `${text} (${code})`;
}

/** Reasons for endings that have no SIP status code. */
export const END_REASONS = Object.freeze({
  localHangup: 'Hung up',
  remoteHangup: 'Remote party hung up',
  cancelled: 'Cancelled',
  declined: 'Declined',
  mediaFailed: 'Media failed',
  transportLost: 'Connection to server lost',
  /** An established call that could not be carried over a new connection (or the gateway ended it meanwhile). */
  connectionLost: 'Connection lost',
});

/**
 * Formats a call duration as m:ss or h:mm:ss.
 * @param {number} ms
 */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Checks a dialled number / SIP user part: digits, *, #, + and URI-safe letters; returns the
 * trimmed target or throws with a clear reason.
 * @param {string} input
 */
export function normaliseTarget(input) {
  const t = String(input ?? '').trim().replace(/[\s()-]/g, '');
  if (t.length === 0) throw new Error('Enter a number to call');
  if (t.length > 64) throw new Error('Number is too long (max 64 characters)');
  if (!/^[A-Za-z0-9.*#+_~]+$/.test(t)) throw new Error('Number may contain only digits, *, #, + and letters');
  return t;
}

/**
 * The registration line shown to the user.
 * @param {string} state a RegistrationState @param {string} reason @param {string} aor "user@domain"
 */
export function registrationLabel(state, reason, aor) {
  switch (state) {
    case 'signed-out': return 'Signed out';
    case 'connecting': return 'Connecting…';
    case 'registering': return 'Registering…';
    case 'registered': return `Registered as ${aor}`;
    case 'failed': return `Registration failed: ${reason || 'unknown reason'}`;
    default: return state;
  }
}

/**
 * The call line shown to the user (the in-call timer is shown beside it). An established call says
 * what `detail` tells about it: reconnecting first, then our hold, then the other party's hold.
 * @param {string} state a CallState @param {string} reason @param {string} peer
 * @param {{ hold: string, remoteHold: boolean, link: string }} [detail] HoldState, remote hold, LinkState
 */
export function callLabel(state, reason, peer, detail) {
  if (state === 'in-call' && detail) {
    if (detail.link !== 'up') return 'Reconnecting…';
    if (detail.hold === 'held') return 'On hold';
    if (detail.hold === 'holding') return 'Putting on hold…';
    if (detail.hold === 'resuming') return 'Resuming…';
    if (detail.remoteHold) return 'On hold by other party';
  }
  switch (state) {
    case 'idle': return 'Ready';
    case 'calling': return `Calling ${peer}…`;
    case 'ringing': return `Ringing ${peer}…`;
    case 'incoming': return `Incoming call from ${peer}`;
    case 'in-call': return `In call with ${peer}`;
    case 'ended': return `Call ended: ${reason || 'unknown reason'}`;
    default: return state;
  }
}

/** The message of a thrown value, for a reason line. @param {unknown} err */
export function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}
