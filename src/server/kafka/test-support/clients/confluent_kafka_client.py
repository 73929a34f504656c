"""Drives a Sluice Kafka listener with confluent-kafka (Debian's python3-confluent-kafka, on
librdkafka), one step per call, with the same steps as kafka_python_client.py.

Usage: confluent_kafka_client.py BOOTSTRAP STEP [ARGS...]; each step prints one JSON line.
"""
import json
import sys
import threading
import time

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
# Records long enough to compress: librdkafka sends a batch uncompressed when compressing would
# not make it smaller.
PADDING = " sluice" * 40
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 300, "max.poll.interval.ms": 10000}


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
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    out(
        {
            "controllerId": metadata.controller_id,
            "brokers": [
                {"nodeId": b.id, "host": b.host, "port": b.port} for b in metadata.brokers.values()
            ],
        }
    )


def create(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, int(partitions), 1)]).values():
        future.result(10)
    out({"topics": sorted(admin.list_topics(timeout=10).topics)})


def send_all(producer, topic, values_by_partition):
    failures = []

    def delivered(error, _message):
        if error is not None:
            failures.append(str(error))

    for partition, values in values_by_partition:
        for value in values:
            producer.produce(topic, value.encode(), partition=partition, on_delivery=delivered)
    if producer.flush(15) != 0 or failures:
        raise RuntimeError(f"not delivered: {failures}")


def produce_codecs(bootstrap, topic, count):
    """Partition i gets `count` records compressed with CODECS[i]."""
    for partition, codec in enumerate(CODECS):
        producer = Producer(
            {"bootstrap.servers": bootstrap, "acks": "all", "compression.type": codec, "linger.ms": 50}
        )
        send_all(producer, topic, [(partition, [f"{codec}-{i}" + PADDING for i in range(int(count))])])
    out({"produced": CODECS})


def produce(bootstrap, topic, partitions, count, prefix):
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    values = [(i % int(partitions), [f"{prefix}-{i}"]) for i in range(int(count))]
    send_all(producer, topic, values)
    out({"produced": int(count)})


def consume_all(bootstrap, topic, count):
    """Reads `count` records from the beginning of every partition, without joining a group."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    seen = {}
    deadline = time.time() + 20
    while sum(len(v) for v in seen.values()) < int(count) and time.time() < deadline:
        for message in consumer.consume(num_messages=500, timeout=0.5):
            if message.error() is None:
                seen.setdefault(str(message.partition()), []).append(message.value().decode().split()[0])
    consumer.close()
    out({"records": seen})


def member(bootstrap, topic, group):
    """One member of a consumer group, until told to leave on stdin (see kafka_python_client.py)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **FAST_GROUP,
        }
    )
    consumer.subscribe([topic])
    commands = stdin_commands()
    assigned = None
    while True:
        messages = consumer.consume(num_messages=500, timeout=0.1)
        records = [m.value().decode() for m in messages if m.error() is None]
        if records:
            out({"records": records})
        now = sorted(tp.partition for tp in consumer.assignment())
        if now != assigned:
            assigned = now
            out({"assigned": now})
        while commands:
            command = commands.pop(0)
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as error:
                if error.args[0].code() != -168:  # _NO_OFFSET: nothing read since the last commit
                    raise
            if command == "leave":
                consumer.close()
                out({"left": True})
                return
            out({"committed": True})


def lag(bootstrap, topic, group):
    """Committed offset, log end and lag per partition, and the group's state."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
    rows = {}
    for tp in committed:
        _low, end = consumer.get_watermark_offsets(tp, timeout=10)
        rows[str(tp.partition)] = {"committed": tp.offset, "end": end, "lag": end - tp.offset}
    consumer.close()
    described = AdminClient({"bootstrap.servers": bootstrap}).list_groups(group, timeout=10)
    out({"state": described[0].state, "partitions": rows})


def transactions(bootstrap, topic, transactional_id, count):
    """Three transactions of `count` records each: committed, aborted, committed."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    producer.init_transactions(15)
    for prefix, commit in [("committed", True), ("aborted", False), ("later", True)]:
        producer.begin_transaction()
        for i in range(int(count)):
            producer.produce(topic, f"{prefix}-{i}".encode(), partition=i % 2)
        if commit:
            producer.commit_transaction(15)
        else:
            producer.flush(15)  # the records reach the partitions before the abort
            producer.abort_transaction(15)
    out({"transactions": 3})


def read_isolated(bootstrap, topic, isolation):
    """Every record of the topic from the beginning, at an isolation level, up to each partition's end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": isolation,
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    records, at_end = [], set()
    deadline = time.time() + 20
    while len(at_end) < len(partitions) and time.time() < deadline:
        for message in consumer.consume(num_messages=500, timeout=0.5):
            if message.error() is None:
                records.append(message.value().decode())
            elif message.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition())
    consumer.close()
    out({"records": records})


def read_process_write(bootstrap, source, sink, group, transactional_id):
    """Exactly once: each batch read from `source` is written to `sink` upper-cased, with the
    group's offsets in the same transaction; stops once every partition is read to its end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            **FAST_GROUP,
        }
    )
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    producer.init_transactions(15)
    consumer.subscribe([source])
    partitions = len(consumer.list_topics(source, timeout=10).topics[source].partitions)
    processed, at_end = 0, set()
    deadline = time.time() + 30
    while len(at_end) < partitions and time.time() < deadline:
        messages = consumer.consume(num_messages=100, timeout=0.5)
        batch = [m for m in messages if m.error() is None]
        at_end |= {m.partition() for m in messages if m.error() is not None and m.error().code() == KafkaError._PARTITION_EOF}
        if not batch:
            continue
        producer.begin_transaction()
        for m in batch:
            producer.produce(sink, m.value().upper(), partition=m.partition())
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 15
        )
        producer.commit_transaction(15)
        processed += len(batch)
    consumer.close()
    out({"processed": processed})


def cooperative(bootstrap, topic, group, count):
    """Two cooperative-sticky members in one group: the first reads `count` records, then the
    second joins; both are polled until they share the partitions (or 15 s)."""
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        # No periodic commit within the step: only the commit at revocation keeps offsets.
        "auto.commit.interval.ms": 60000,
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
    }
    first, second = Consumer(config), Consumer(config)
    first.subscribe([topic])
    start = time.time()
    read = 0
    while read < int(count) and time.time() - start < 15:
        message = first.poll(0.1)
        read += message is not None and message.error() is None
    second.subscribe([topic])
    shared = lambda: first.assignment() and second.assignment()
    while not shared() and time.time() - start < 15:
        first.poll(0.1)
        second.poll(0.1)
    # What the second reads of the partitions handed over: nothing, if the first's commit of
    # what it revoked (librdkafka commits it then) was kept.
    again = 0
    polled = time.time()
    while time.time() - polled < 2:
        first.poll(0.1)
        message = second.poll(0.1)
        again += message is not None and message.error() is None
    out(
        {
            "first": sorted(tp.partition for tp in first.assignment()),
            "second": sorted(tp.partition for tp in second.assignment()),
            "readAgain": again,
        }
    )
    second.close()
    first.close()


STEPS = {
    "transactions": transactions,
    "read-isolated": read_isolated,
    "read-process-write": read_process_write,
    "cluster": cluster,
    "create": create,
    "produce-codecs": produce_codecs,
    "produce": produce,
    "consume-all": consume_all,
    "member": member,
    "lag": lag,
    "cooperative": cooperative,
}

if __name__ == "__main__":
    STEPS[sys.argv[2]](sys.argv[1], *sys.argv[3:])
