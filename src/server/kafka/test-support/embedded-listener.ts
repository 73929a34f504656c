import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedTopicService } from "../../../messaging/topics/embedded-topic-service.js";
import { embeddedKafkaBackend } from "../embedded-kafka-backend.js";
import { KafkaServer } from "../kafka-server.js";

/** A Kafka listener on embedded topics in a directory of its own, as most listener tests use. */
export class EmbeddedListener {
  private constructor(
    readonly dir: string,
    readonly topics: EmbeddedTopicService,
    readonly server: KafkaServer,
    /** Why the listener closed a client's connection, in order (a test of good clients expects none). */
    readonly connectionErrors: Error[],
  ) {}

  /** Opens topics (no fsync: tests of answers, not of durability) and listens on a free port. */
  static async start(name: string): Promise<EmbeddedListener> {
    const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
    const topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
    const connectionErrors: Error[] = [];
    const server = await KafkaServer.listen({
      backend: embeddedKafkaBackend(topics),
      port: 0,
      onConnectionError: (error) => connectionErrors.push(error),
    });
    return new EmbeddedListener(dir, topics, server, connectionErrors);
  }

  get port(): number {
    return this.server.port;
  }

  /** "127.0.0.1:<port>", for a client's bootstrap servers. */
  get bootstrap(): string {
    return `127.0.0.1:${this.server.port}`;
  }

  async close(): Promise<void> {
    await this.server.close();
    await this.topics.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
