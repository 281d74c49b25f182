// The page's RTCPeerConnections seen from a test, without touching the page's code: an init script
// records every peer connection the page makes; selectedPair() reads the ICE candidate pair in use
// from getStats (W3C webrtc-stats: transport.selectedCandidatePairId → candidate-pair → local/remote
// candidate with candidateType, protocol, relayProtocol).
import type { Page } from 'playwright-core';

// The page's types, as far as used here (the test's tsconfig has no DOM lib).
type Stat = { type: string; [key: string]: unknown };
interface PcLike {
  getStats(): Promise<{ forEach(cb: (s: Stat) => void): void; get(id: string): Stat | undefined }>;
}
type PcConstructor = new (...args: unknown[]) => PcLike;
declare const window: { RTCPeerConnection: PcConstructor; __netbedPcs?: PcLike[] };

/** Call before the page loads (page.addInitScript runs it in every new document). */
export async function recordPeerConnections(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Original = window.RTCPeerConnection;
    const made: PcLike[] = [];
    window.__netbedPcs = made;
    window.RTCPeerConnection = class extends Original {
      constructor(...args: unknown[]) {
        super(...args);
        made.push(this);
      }
    };
  });
}

export interface CandidateInfo {
  candidateType: string;
  protocol: string;
  relayProtocol?: string;
  address: string;
  port: number;
}

export interface SelectedPair {
  state: string;
  local: CandidateInfo;
  remote: CandidateInfo;
}

/** The selected candidate pair of the page's newest peer connection, or null while there is none. */
export function selectedPair(page: Page): Promise<SelectedPair | null> {
  return page.evaluate(async () => {
    const pc = window.__netbedPcs?.at(-1);
    if (!pc) return null;
    const report = await pc.getStats();
    let pairId: string | undefined;
    report.forEach((s) => {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? report.get(pairId) : undefined;
    if (!pair) return null;
    const info = (id: unknown): CandidateInfo => {
      const c = report.get(String(id)) ?? { type: 'missing' };
      return { candidateType: String(c.candidateType), protocol: String(c.protocol), relayProtocol: c.relayProtocol as string | undefined, address: String(c.address ?? c.ip), port: Number(c.port) };
    };
    return { state: String(pair.state), local: info(pair.localCandidateId), remote: info(pair.remoteCandidateId) };
  });
}
