// One media-engine test rig: a loopback STUN refuser for werift, an embedded engine on a random port
// range, a UDP socket playing the trunk, and werift peers playing browsers; close() ends them all.
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine, type EmbeddedMediaEngine } from '../../../gateway/media/index.js';
import type { PortRange } from '../../../gateway/media/ports.js';
import { loopbackPeer, startStunRefuser, startTrunk, type Trunk } from './peers.js';

export type Peer = ReturnType<typeof loopbackPeer>;

export interface MediaRig {
  engine: EmbeddedMediaEngine;
  trunk: Trunk;
  range: PortRange;
  /** A new werift peer (closed by close()). */
  peer(): Peer;
  close(): Promise<void>;
}

export async function startMediaRig(ports: number): Promise<MediaRig> {
  const stun = await startStunRefuser();
  const trunk = await startTrunk();
  const from = 30000 + 2 * Math.floor(Math.random() * 10000);
  const range = { from, to: from + ports - 1 };
  const engine = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: range, logger: createLogger('silent') });
  const peers: Peer[] = [];
  return {
    engine,
    trunk,
    range,
    peer() {
      const p = loopbackPeer(stun.port);
      peers.push(p);
      return p;
    },
    async close() {
      await Promise.all(peers.splice(0).map((p) => p.pc.close()));
      await trunk.close();
      await stun.close();
      await engine.close();
    },
  };
}
