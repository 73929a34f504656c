import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { LoopbackNatsCluster } from "../loopback-nats-cluster.js";

/**
 * Whose death a failover test tries: a stream's leader; one of its followers; and a follower
 * that also leads the meta group, the one that places consumers (none can be made until the
 * others elect another).
 */
export const VICTIMS = ["leader", "follower", "meta leader"] as const;
export type Victim = (typeof VICTIMS)[number];

/**
 * The index of the node leading (or following) the first stream whose name starts with
 * `streamPrefix` (a test's namespace holds one); for the meta leader, one that follows the stream
 * (its leader is made to step down if need be).
 */
export async function pickVictim(
  cluster: LoopbackNatsCluster,
  streamPrefix: string,
  victim: Victim,
): Promise<number> {
  const nc = await connect({ servers: cluster.servers.split(",") });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (!name.startsWith(streamPrefix)) continue;
      if (victim === "meta leader") return await cluster.metaLeaderFollowing(name);
      const info = await jsm.streams.info(name);
      const node =
        victim === "leader"
          ? (info.cluster?.leader ?? "")
          : (info.cluster?.replicas?.[0]?.name ?? "no follower");
      const index = cluster.nodeIndex(node);
      if (index < 0) throw new Error(`stream ${name}: no node named ${node}`);
      return index;
    }
    throw new Error(`no stream named ${streamPrefix}*`);
  } finally {
    await nc.close();
  }
}
