import type { NatsConnection } from "@nats-io/transport-node";

/** Drops the connection and resolves once the client has connected again. */
export async function reconnected(connection: NatsConnection): Promise<void> {
  const status = connection.status();
  const back = (async () => {
    for await (const s of status) if (s.type === "reconnect") return;
  })();
  await connection.reconnect();
  await back;
}
