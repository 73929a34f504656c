"""Drives a Sluice Kafka listener with kafka-python (Debian's python3-kafka), one step per call.

Usage: kafka_python_client.py BOOTSTRAP STEP [ARGS...]; each step prints one JSON line.
The test that calls it makes the assertions; this script only uses the client as its
documentation shows and reports what the client saw.
"""
import json
import sys
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
# Records long enough to compress: librdkafka sends a batch uncompressed when compressing would
# not make it smaller.
PADDING = " sluice" * 40
FAST_GROUP = dict(session_timeout_ms=6000, heartbeat_interval_ms=300, max_poll_interval_ms=10000)


def out(value):
    print(json.dumps(value), flush=True)


def stdin_commands():
    """Lines read from stdin by a thread, for a loop that must keep polling meanwhile."""
    commands = []

    def read():
        for line in sys.stdin:
            commands.append(line.strip())
        commands.append("leave")

    threading.Thread(target=read, daemon=True).start()
    return commands


def cluster(bootstrap):
    """The release kafka-python inferred from ApiVersions, and the brokers Metadata advertised."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_cluster()
        out(
            {
                "apiVersion": list(admin.config["api_version"]),
                "controllerId": described["controller_id"],
                "brokers": [
                    {"nodeId": b["node_id"], "host": b["host"], "port": b["port"]}
                    for b in described["brokers"]
                ],
            }
        )
    finally:
        admin.close()


def create(bootstrap, topic, partitions):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, int(partitions), 1)])
        out({"topics": sorted(admin.list_topics())})
    finally:
        admin.close()


def produce_codecs(bootstrap, topic, count):
    """Partition i gets `count` records compressed with CODECS[i]."""
    for partition, codec in enumerate(CODECS):
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            compression_type=None if codec == "none" else codec,
            linger_ms=50,
        )
        sent = [
            producer.send(topic, (f"{codec}-{i}" + PADDING).encode(), partition=partition)
            for i in range(int(count))
        ]
        for future in sent:
            future.get(timeout=10)
        producer.close()
    out({"produced": CODECS})


def produce(bootstrap, topic, partitions, count, prefix):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    sent = [
        producer.send(topic, f"{prefix}-{i}".encode(), partition=i % int(partitions))
        for i in range(int(count))
    ]
    for future in sent:
        future.get(timeout=10)
    producer.close()
    out({"produced": int(count)})


def consume_all(bootstrap, topic, count):
    """Reads `count` records from the beginning of every partition, without a group."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    seen = {}
    deadline = time.time() + 20
    while sum(len(v) for v in seen.values()) < int(count) and time.time() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            seen.setdefault(str(tp.partition), []).extend(r.value.decode().split()[0] for r in records)
    consumer.close()
    out({"records": seen})


def member(bootstrap, topic, group):
    """One member of a consumer group, until told to leave on stdin.

    Prints {"assigned": [...]} whenever its assignment changes and {"records": [...]} for what
    it reads; "commit" on stdin commits what it has read, "leave" commits and leaves the group.
    """
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **FAST_GROUP,
    )
    commands = stdin_commands()
    assigned = None
    while True:
        records = [r.value.decode() for batch in consumer.poll(timeout_ms=100).values() for r in batch]
        if records:
            out({"records": records})
        now = sorted(tp.partition for tp in consumer.assignment())
        if now != assigned:
            assigned = now
            out({"assigned": now})
        while commands:
            command = commands.pop(0)
            consumer.commit()
            if command == "leave":
                consumer.close()
                out({"left": True})
                return
            out({"committed": True})


def lag(bootstrap, topic, group):
    """What `kafka-consumer-groups.sh --describe` shows: committed, log end and lag per partition."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_consumer_groups([group])[0]
        committed = admin.list_consumer_group_offsets(group)
        ends = consumer.end_offsets([tp for tp in committed if tp.topic == topic])
        rows = {
            str(tp.partition): {
                "committed": committed[tp].offset,
                "end": ends[tp],
                "lag": ends[tp] - committed[tp].offset,
            }
            for tp in ends
        }
        out({"state": described.state, "partitions": rows})
    finally:
        consumer.close()
        admin.close()


STEPS = {
    "cluster": cluster,
    "create": create,
    "produce-codecs": produce_codecs,
    "produce": produce,
    "consume-all": consume_all,
    "member": member,
    "lag": lag,
}

if __name__ == "__main__":
    STEPS[sys.argv[2]](sys.argv[1], *sys.argv[3:])
