import { existsSync, readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import type { FsyncPolicy } from "../engine/index.js";
import type { KafkaServer } from "../server/kafka/kafka-server.js";
import { type AwsCredential, parseAwsCredentials } from "../server/aws/sigv4.js";
import type { QueueService } from "../messaging/queues/index.js";
import type { EmbeddedTopicService } from "../messaging/topics/embedded-topic-service.js";
import type { TopicService } from "../messaging/topics/topic-service.js";
import type { Sluice } from "../sluice/index.js";
import { frameBytes, port, saslUsers } from "./option-parsers.js";
import { portRefused } from "./port-refused.js";
import { warmUpEngines } from "./engine-warm-up.js";
import { authTokenOption } from "./server-target.js";

interface StartOptions {
  dataDir: string;
  host: string;
  port: number;
  publicUrl?: string;
  fsync: FsyncPolicy;
  authToken?: string;
  awsCredentials?: AwsCredential[];
  log: boolean;
  /** Serve the Kafka protocol too (`--no-kafka` turns it off). */
  kafka: boolean;
  /** The Kafka listener's port (0 picks a free one). */
  kafkaPort: number;
  kafkaAdvertisedHost?: string;
  /** SASL/PLAIN users of the Kafka listener (`--kafka-sasl-users` or SLUICE_KAFKA_SASL_USERS). */
  kafkaSaslUsers?: Map<string, string>;
  /** The Kafka listener's largest request (default 100 MiB). */
  kafkaMaxFrameBytes?: number;
  /** Create topics a Kafka client asks metadata for (`--no-kafka-auto-create-topics`). */
  kafkaAutoCreateTopics?: boolean;
  /**
   * Run traffic through a throwaway queue and topic before listening, so the first clients meet
   * compiled code (`--no-warm-up` turns it off; nothing to warm with --messaging).
   */
  warmUp?: boolean;
  /** NATS servers: queues and topics on NATS JetStream there (the data directory keeps the rest). */
  messaging?: string;
  /** With `messaging`: copies of every stream. */
  replicas?: number;
}

/** Kafka's own port: Kafka clients and course material point at localhost:9092. */
export const DEFAULT_KAFKA_PORT = 9092;

/** "always", "never", or a number of milliseconds between fsyncs. */
function fsyncPolicy(value: string): FsyncPolicy {
  if (value === "always" || value === "never") return value;
  const ms = Number(value.replace(/ms$/, ""));
  if (!Number.isSafeInteger(ms) || ms < 1)
    throw new InvalidArgumentError('expected "always", "never" or an interval in ms (e.g. 50)');
  return { intervalMs: ms };
}

/** `<id>:<secret>`, or a file of such lines; repeatable, the keys add up. */
function awsCredentials(value: string, previous: AwsCredential[] = []): AwsCredential[] {
  try {
    const fromFile = !/^[^:/\\]+:/.test(value) && existsSync(value);
    const parsed = fromFile
      ? parseAwsCredentials(readFileSync(value, "utf8"), value)
      : parseAwsCredentials(value, "--aws-credentials");
    return [...previous, ...parsed];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** 1, 3 or 5 copies of a JetStream stream. */
function replicas(value: string): number {
  const n = Number(value);
  if (![1, 3, 5].includes(n)) throw new InvalidArgumentError("expected 1, 3 or 5");
  return n;
}

/**
 * Opens the data directory and serves it until SIGINT/SIGTERM; the first signal shuts down
 * gracefully (long polls answered empty, requests in flight finished, data flushed), a
 * second one exits at once.
 */
export async function startServer(options: StartOptions): Promise<{
  stop: () => Promise<void>;
  url: string;
  banner: string;
  kafka: KafkaServer | undefined;
}> {
  // The server is loaded when it starts, not with the command line: `sluice --help` and every
  // other command start without it.
  const [{ open }, { SluiceServer, defaultPublicUrl }, { EmbeddedTopicService }, { openDataDir }] =
    await Promise.all([
      import("../sluice/index.js"),
      import("../server/index.js"),
      import("../messaging/topics/embedded-topic-service.js"),
      import("./new-data-dir.js"),
    ]);
  // Every primitive in one data directory; queue URLs and SNS confirmation links name this
  // server, whose URL is known once it listens (--port 0 picks the port then).
  let server: Awaited<ReturnType<typeof SluiceServer.create>> | undefined;
  const baseUrl = (): string =>
    server?.url ?? options.publicUrl ?? defaultPublicUrl(options.host, options.port);
  const common = {
    fsync: options.fsync,
    queues: { baseUrl },
    pubsub: { baseUrl },
  };
  // A start that fails (a taken port, unreachable NATS servers) removes the data directory it
  // made, unless something was stored in it.
  const { opened: sluice, discardIfUnused } = await openDataDir(
    options.dataDir,
    "--data-dir",
    (): Promise<Sluice<QueueService, TopicService>> =>
      options.messaging === undefined
        ? open(options.dataDir, common)
        : open(options.dataDir, {
            ...common,
            messaging: options.messaging,
            ...(options.replicas === undefined ? {} : { nats: { replicas: options.replicas } }),
          }),
  );
  // Before the listener opens: clients wait for it rather than for code being compiled.
  const warmUpLine =
    options.warmUp === true && options.messaging === undefined
      ? await warmUpEngines({ queues: true }, options.fsync)
      : "";
  try {
    server = await SluiceServer.create(sluice, {
      host: options.host,
      port: options.port,
      ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
      logger: options.log,
      ...(options.authToken === undefined ? {} : { authToken: options.authToken }),
      ...(options.awsCredentials === undefined ? {} : { awsCredentials: options.awsCredentials }),
    });
    await server.listen();
  } catch (error) {
    await sluice.close();
    await discardIfUnused();
    throw portRefused(
      error,
      "--port",
      options.port,
      options.host,
      "(another Sluice, or a server?)",
    );
  }
  let kafka: KafkaServer | undefined;
  // The Kafka listener serves embedded topics; with --messaging the topics are on NATS.
  if (options.kafka && sluice.topics instanceof EmbeddedTopicService)
    try {
      kafka = await listenKafka(sluice.topics, options);
    } catch (error) {
      await server.close();
      await sluice.close();
      await discardIfUnused();
      throw error;
    }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Requests, streams and Kafka connections end first, then every primitive flushes and
      // closes in order.
      await Promise.all([server.close(), kafka?.close()]);
      await sluice.close();
    })());
  const kafkaLine =
    kafka === undefined
      ? options.kafka && options.messaging !== undefined
        ? "Kafka protocol: off (it serves embedded topics; these are on NATS JetStream)\n"
        : ""
      : `Kafka protocol on ${options.host}:${kafka.port} (advertised ${kafka.broker.host}:${kafka.broker.port})\n`;
  return { stop, url: server.url, banner: warmUpLine + server.banner() + kafkaLine, kafka };
}

/** The Kafka listener on the same topics as the HTTP server; a taken port says which and what to do. */
async function listenKafka(
  topics: EmbeddedTopicService,
  options: StartOptions,
): Promise<KafkaServer> {
  const [{ embeddedKafkaBackend }, { KafkaServer }] = await Promise.all([
    import("../server/kafka/embedded-kafka-backend.js"),
    import("../server/kafka/kafka-server.js"),
  ]);
  try {
    return await KafkaServer.listen({
      backend: embeddedKafkaBackend(topics),
      host: options.host,
      port: options.kafkaPort,
      ...(options.kafkaAdvertisedHost === undefined
        ? {}
        : { advertisedHost: options.kafkaAdvertisedHost }),
      ...(options.kafkaSaslUsers === undefined ? {} : { saslUsers: options.kafkaSaslUsers }),
      ...(options.kafkaMaxFrameBytes === undefined
        ? {}
        : { maxFrameBytes: options.kafkaMaxFrameBytes }),
      autoCreateTopics: options.kafkaAutoCreateTopics ?? true,
    });
  } catch (error) {
    throw portRefused(
      error,
      "--kafka-port",
      options.kafkaPort,
      options.host,
      "(a Kafka broker or another Sluice?)",
      " or turn the Kafka listener off with --no-kafka",
    );
  }
}

/**
 * `sluice start`: serve a data directory over HTTP (REST, WebSocket, AWS-compatible APIs) and
 * the Kafka protocol (on :9092 unless told otherwise).
 */
export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description(
      "serve a data directory (queues, topics, event store, pub/sub, bus): REST, WebSocket, AWS-compatible APIs, /metrics, and the Kafka protocol",
    )
    .option("--data-dir <dir>", "data directory (created if missing)", "./data")
    .option("--host <host>", "interface to bind (127.0.0.1 keeps it on this machine)", "127.0.0.1")
    .option(
      "--port <port>",
      "port to listen on (0 picks a free one; the banner names it)",
      port,
      8080,
    )
    .option(
      "--public-url <url>",
      "URL clients reach the server at (default http://localhost:<port>)",
    )
    .option("--fsync <policy>", "always | never | interval in ms", fsyncPolicy, {
      intervalMs: 50,
    } as FsyncPolicy)
    .addOption(authTokenOption("require Authorization: Bearer <token> on REST and streams"))
    .option(
      "--aws-credentials <id:secret|file>",
      "verify SigV4 signatures of the AWS APIs with these keys (a file holds one id:secret a line); default: any credentials",
      awsCredentials,
    )
    .option(
      "--messaging <nats://host:port,...>",
      "put queues and topics on NATS JetStream at these servers (the data directory keeps the rest; no Kafka listener then)",
    )
    .option("--replicas <n>", "with --messaging: copies of every stream (1, 3 or 5)", replicas)
    .option("--log", "log every request (JSON lines)", false)
    .option(
      "--kafka-port <port>",
      "port of the Kafka protocol listener, on the same --host (0 picks a free one)",
      port,
      DEFAULT_KAFKA_PORT,
    )
    .option(
      "--kafka-advertised-host <host>",
      "host Kafka clients are told to connect to (default: the bound host, 127.0.0.1 for 0.0.0.0)",
    )
    .option(
      "--kafka-sasl-users <user:password,...>",
      "require SASL/PLAIN on the Kafka listener with these users (also read from SLUICE_KAFKA_SASL_USERS, which keeps passwords out of the process list)",
      saslUsers,
    )
    .option(
      "--kafka-max-frame-bytes <n>",
      "largest request the Kafka listener accepts (default 100 MiB)",
      frameBytes,
    )
    .option(
      "--no-kafka-auto-create-topics",
      "do not create topics a Kafka client asks metadata for",
    )
    .option("--no-kafka", "do not serve the Kafka protocol")
    .option(
      "--no-warm-up",
      "listen at once, without first running traffic through a throwaway queue and topic (about half a second) to compile their paths",
    )
    .action(async (options: StartOptions) => {
      if (options.replicas !== undefined && options.messaging === undefined)
        throw new InvalidArgumentError(
          "--replicas is for NATS JetStream streams: give it with --messaging",
        );
      const fromEnvironment = process.env.SLUICE_KAFKA_SASL_USERS;
      if (options.kafkaSaslUsers === undefined && fromEnvironment)
        options.kafkaSaslUsers = saslUsers(fromEnvironment);
      const started = await startServer(options);
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          process.stderr.write(`sluice: ${signal} again, exiting now\n`);
          process.exit(1);
        }
        process.stdout.write(`sluice: ${signal}, shutting down (again to force)\n`);
        started.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`sluice: shutdown failed: ${(error as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      // Handlers first, banner second: whoever waits for the banner may signal at once, and a
      // SIGTERM that comes before the handler ends the process without its shutdown.
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      process.stdout.write(started.banner);
    });
}
