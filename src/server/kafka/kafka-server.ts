import { randomBytes } from "node:crypto";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { SystemClock, type Clock } from "../../time/index.js";
import type { ApiHandler, BrokerIdentity, BrokerSettings } from "./api-handler.js";
import { ApiTable } from "./api-table.js";
import { KafkaGroupCoordinator } from "./groups/group-coordinator.js";
import type { KafkaGroups } from "./groups/kafka-groups.js";
import { SharedKafkaGroups } from "./groups/shared-kafka-groups.js";
import {
  groupHandlers,
  phaseOneHandlers,
  producerHandlers,
  transactionHandlers,
} from "./handlers/index.js";
import { saslHandlers } from "./handlers/sasl.js";
import type { KafkaBackend } from "./kafka-backend.js";
import { KafkaConnection } from "./kafka-connection.js";
import { DEFAULT_MAX_FRAME_BYTES } from "./protocol/frame-decoder.js";

export interface KafkaServerOptions {
  readonly backend: KafkaBackend;
  /** Interface to bind (default 127.0.0.1: nothing outside this machine reaches it unless asked). */
  readonly host?: string;
  /** Port to listen on (default 9092; 0 picks a free one). */
  readonly port?: number;
  /** Host clients are told to connect to (default: the bound host, or 127.0.0.1 for a wildcard bind). */
  readonly advertisedHost?: string;
  /** Port clients are told to connect to (default: the bound port), e.g. behind a port forward. */
  readonly advertisedPort?: number;
  /** Largest request frame accepted; a bigger one closes the connection (default 100 MiB). */
  readonly maxFrameBytes?: number;
  /** Create a topic a client asks metadata for or produces to (Kafka's auto.create.topics.enable, default true). */
  readonly autoCreateTopics?: boolean;
  /** Partitions of an auto-created topic, and of CreateTopics asking for the default (default 1). */
  readonly defaultPartitions?: number;
  readonly clusterId?: string;
  readonly clock?: Clock;
  /** Told why the server closed a client connection (bad frame, unknown API, handler failure). */
  readonly onConnectionError?: (error: Error) => void;
  /**
   * SASL/PLAIN users and their passwords: when given, a connection may send nothing but
   * ApiVersions, SaslHandshake and SaslAuthenticate until it has authenticated.
   */
  readonly saslUsers?: ReadonlyMap<string, string>;
  /** Replaces the served APIs (tests; ApiVersions is always added). */
  readonly handlers?: readonly ApiHandler<never, object>[];
}

/** The one node id this single-broker cluster has (also its controller and group coordinator). */
const NODE_ID = 0;

/** A Kafka wire-protocol listener: Kafka clients talk to Sluice topics through it unchanged. */
export class KafkaServer {
  private readonly connections = new Set<KafkaConnection>();

  private constructor(
    private readonly server: Server,
    /** The broker as clients see it (advertised host and port). */
    readonly broker: BrokerIdentity,
    private readonly groups: KafkaGroups,
  ) {}

  /** Starts listening; resolves once the port is bound. */
  static async listen(options: KafkaServerOptions): Promise<KafkaServer> {
    const host = options.host ?? "127.0.0.1";
    const sasl = options.saslUsers === undefined ? [] : saslHandlers();
    const table = new ApiTable([
      ...(options.handlers ?? [
        ...phaseOneHandlers(),
        ...groupHandlers(),
        ...producerHandlers(),
        ...(options.backend.transactions === undefined ? [] : transactionHandlers()),
      ]),
      ...sasl,
    ]);
    const clock = options.clock ?? new SystemClock();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 9092, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const wildcard = host === "0.0.0.0" || host === "::";
    const broker: BrokerIdentity = {
      nodeId: NODE_ID,
      host: options.advertisedHost ?? (wildcard ? "127.0.0.1" : host),
      port: options.advertisedPort ?? port,
      clusterId: options.clusterId ?? randomBytes(16).toString("base64url").slice(0, 22),
    };
    const settings: BrokerSettings = {
      autoCreateTopics: options.autoCreateTopics ?? true,
      defaultPartitions: options.defaultPartitions ?? 1,
      ...(options.saslUsers === undefined ? {} : { saslUsers: options.saslUsers }),
    };
    const groups: KafkaGroups =
      options.backend.groups === undefined
        ? new KafkaGroupCoordinator(clock)
        : new SharedKafkaGroups(options.backend.groups, clock);
    const kafka = new KafkaServer(server, broker, groups);
    server.on("connection", (socket: Socket) => {
      const connection = new KafkaConnection(socket, {
        table,
        maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        context: {
          broker,
          settings,
          backend: options.backend,
          groups,
          clock,
        },
        ...(options.onConnectionError === undefined ? {} : { onClose: options.onConnectionError }),
      });
      kafka.connections.add(connection);
      connection.signal.addEventListener("abort", () => kafka.connections.delete(connection), {
        once: true,
      });
    });
    return kafka;
  }

  /** The port actually bound. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting, closes every client connection and waits for the listener to close. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.groups.close();
    for (const connection of this.connections) connection.destroy();
    await closed;
  }
}
