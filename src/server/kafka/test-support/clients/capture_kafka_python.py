"""One session of kafka-python (Debian's python3-kafka) using every Kafka API it can send, for
test-support/capture-kafka-python.ts to record.

Usage: capture_kafka_python.py BOOTSTRAP RELEASE, e.g. 2.1.0: the producer and consumer use the
versions of that Kafka release (rather than inferring one from ApiVersions); the admin client
takes the highest version both it and the broker know of each API. Prints one JSON line naming
the steps that failed (the session goes on).
"""
import json
import sys
import time
import traceback

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

TOPIC = "captured"
GROUP = "capture-group"
FAST_GROUP = dict(session_timeout_ms=6000, heartbeat_interval_ms=100, max_poll_interval_ms=10000)


def admin_before(bootstrap, _release):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="capture")
    try:
        admin.create_topics([NewTopic(TOPIC, 2, 1)])
        admin.create_partitions({TOPIC: NewPartitions(3)})
        admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
        admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, TOPIC, configs={"retention.ms": "60000"})]
        )
    finally:
        admin.close()


def produce(bootstrap, release):
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="capture", api_version=release, acks="all")
    for i in range(3):
        producer.send(TOPIC, f"record-{i}".encode(), partition=i)
    producer.flush(10)
    producer.close()


def member(bootstrap, release):
    """A group member: joins, reads, heartbeats, commits, reads offsets back, leaves."""
    consumer = KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        client_id="capture",
        api_version=release,
        group_id=GROUP,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **FAST_GROUP,
    )
    read, deadline = 0, time.time() + 10
    while read < 3 and time.time() < deadline:
        read += sum(len(records) for records in consumer.poll(100).values())
    time.sleep(0.5)  # heartbeats
    consumer.commit()
    partitions = [TopicPartition(TOPIC, p) for p in range(3)]
    for tp in partitions:
        consumer.committed(tp)
    consumer.end_offsets(partitions)
    consumer.close()
    if read < 3:
        raise RuntimeError(f"read {read} of 3 records")


def admin_after(bootstrap, _release):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="capture")
    try:
        admin.list_consumer_groups()
        admin.describe_consumer_groups([GROUP])
        admin.list_consumer_group_offsets(GROUP, partitions=[TopicPartition(TOPIC, 0)])
        admin.delete_consumer_groups([GROUP])
        admin.delete_topics([TOPIC])
    finally:
        admin.close()


if __name__ == "__main__":
    bootstrap, release = sys.argv[1], tuple(int(part) for part in sys.argv[2].split("."))
    failed = []
    for step in [admin_before, produce, member, admin_after]:
        try:
            step(bootstrap, release)
        except Exception as error:  # any failure: reported, and the session goes on
            traceback.print_exc()
            failed.append(f"{step.__name__}: {error!r}")
    print(json.dumps({"failed": failed}), flush=True)
