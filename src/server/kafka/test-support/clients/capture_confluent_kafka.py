"""One session of confluent-kafka (Debian's python3-confluent-kafka, on librdkafka) using every
Kafka API it can send, and librdkafka's C API for the admin calls that binding lacks, for
test-support/capture-librdkafka.ts to record.

Usage: capture_confluent_kafka.py BOOTSTRAP; prints one JSON line naming the steps that failed
(a step librdkafka cannot take at the versions advertised fails, and the session goes on).
"""
import ctypes
import ctypes.util
import json
import sys
import time
import traceback

from confluent_kafka import Consumer, Producer, TopicPartition, libversion, version
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

TOPIC = "captured"
GROUP = "capture-group"
# Short timeouts: a step librdkafka cannot take at the versions advertised fails soon.
TIMEOUT = 10
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 100, "max.poll.interval.ms": 10000}


def results(futures):
    for future in futures.values():
        future.result(TIMEOUT)


def admin_before(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    results(admin.create_topics([NewTopic(TOPIC, 2, 1)]))
    results(admin.create_partitions([NewPartitions(TOPIC, 3)]))
    resource = ConfigResource("topic", TOPIC)
    results(admin.describe_configs([resource]))
    results(admin.alter_configs([ConfigResource("topic", TOPIC, set_config={"retention.ms": "60000"})]))


def produce(bootstrap):
    """An idempotent producer (InitProducerId, then Produce with acks=all)."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(3):
        producer.produce(TOPIC, f"record-{i}".encode(), partition=i)
    if producer.flush(TIMEOUT) != 0:
        raise RuntimeError("not delivered")


def member(bootstrap):
    """A group member: joins, reads, heartbeats, commits, reads offsets back, leaves."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": GROUP,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **FAST_GROUP,
        }
    )
    consumer.subscribe([TOPIC])
    read, deadline = 0, time.time() + TIMEOUT
    while read < 3 and time.time() < deadline:
        message = consumer.poll(0.1)
        read += message is not None and message.error() is None
    time.sleep(0.5)  # heartbeats
    consumer.commit(asynchronous=False)
    consumer.committed([TopicPartition(TOPIC, p) for p in range(3)], timeout=TIMEOUT)
    consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=TIMEOUT)
    consumer.offsets_for_times([TopicPartition(TOPIC, 0, int(time.time() * 1000) - 60000)], timeout=TIMEOUT)
    consumer.close()
    if read < 3:
        raise RuntimeError(f"read {read} of 3 records")


def read_process_write(bootstrap):
    """A transaction writing a record and committing a group's offsets with it."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": GROUP + "-rpw",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            **FAST_GROUP,
        }
    )
    consumer.subscribe([TOPIC])
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "capture-txn"})
    producer.init_transactions(TIMEOUT)
    message, deadline = None, time.time() + TIMEOUT
    while message is None and time.time() < deadline:
        polled = consumer.poll(0.1)
        message = polled if polled is not None and polled.error() is None else None
    producer.begin_transaction()
    producer.produce(TOPIC, b"in a transaction", partition=0)
    producer.send_offsets_to_transaction(
        consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), TIMEOUT
    )
    producer.commit_transaction(TIMEOUT)
    consumer.close()
    if message is None:
        raise RuntimeError("read nothing")


def librdkafka_admin(bootstrap):
    """librdkafka's admin calls that confluent-kafka 1.7 does not wrap, through its C API:
    ListConsumerGroups, DescribeConsumerGroups, DeleteRecords and DeleteGroups."""
    lib = ctypes.CDLL(ctypes.util.find_library("rdkafka"))
    p = ctypes.c_void_p
    for name, restype, argtypes in [
        ("rd_kafka_conf_new", p, []),
        ("rd_kafka_conf_set", ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_char_p, p, ctypes.c_size_t]),
        ("rd_kafka_new", p, [ctypes.c_int, p, p, ctypes.c_size_t]),
        ("rd_kafka_queue_new", p, [p]),
        ("rd_kafka_AdminOptions_new", p, [p, ctypes.c_int]),
        ("rd_kafka_ListConsumerGroups", None, [p, p, p]),
        ("rd_kafka_DescribeConsumerGroups", None, [p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, p, p]),
        ("rd_kafka_topic_partition_list_new", p, [ctypes.c_int]),
        ("rd_kafka_topic_partition_list_add", p, [p, ctypes.c_char_p, ctypes.c_int32]),
        ("rd_kafka_topic_partition_list_set_offset", ctypes.c_int, [p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_int64]),
        ("rd_kafka_DeleteRecords_new", p, [p]),
        ("rd_kafka_DeleteRecords", None, [p, ctypes.POINTER(p), ctypes.c_size_t, p, p]),
        ("rd_kafka_DeleteGroup_new", p, [ctypes.c_char_p]),
        ("rd_kafka_DeleteGroups", None, [p, ctypes.POINTER(p), ctypes.c_size_t, p, p]),
        ("rd_kafka_queue_poll", p, [p, ctypes.c_int]),
        ("rd_kafka_event_error_string", ctypes.c_char_p, [p]),
        ("rd_kafka_event_error", ctypes.c_int, [p]),
        ("rd_kafka_event_destroy", None, [p]),
        ("rd_kafka_topic_partition_list_destroy", None, [p]),
        ("rd_kafka_DeleteRecords_destroy", None, [p]),
        ("rd_kafka_DeleteGroup_destroy", None, [p]),
        ("rd_kafka_queue_destroy", None, [p]),
        ("rd_kafka_AdminOptions_destroy", None, [p]),
        ("rd_kafka_destroy", None, [p]),
    ]:
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes

    conf = lib.rd_kafka_conf_new()
    lib.rd_kafka_conf_set(conf, b"bootstrap.servers", bootstrap.encode(), None, 0)
    errstr = ctypes.create_string_buffer(512)
    rk = lib.rd_kafka_new(0, conf, errstr, len(errstr))  # RD_KAFKA_PRODUCER
    if not rk:
        raise RuntimeError(errstr.value.decode())
    queue = lib.rd_kafka_queue_new(rk)
    options = lib.rd_kafka_AdminOptions_new(rk, 0)  # RD_KAFKA_ADMIN_OP_ANY

    def result(call):
        event = lib.rd_kafka_queue_poll(queue, TIMEOUT * 1000)
        if not event:
            raise RuntimeError(f"{call}: no result")
        try:
            if lib.rd_kafka_event_error(event) != 0:
                raise RuntimeError(f"{call}: {lib.rd_kafka_event_error_string(event).decode()}")
        finally:
            lib.rd_kafka_event_destroy(event)

    try:
        if hasattr(lib, "rd_kafka_IncrementalAlterConfigs"):  # librdkafka 2.2 on
            incremental_alter_configs(lib, rk, options, queue, result)
        lib.rd_kafka_ListConsumerGroups(rk, options, queue)
        result("ListConsumerGroups")
        groups = (ctypes.c_char_p * 1)(GROUP.encode())
        lib.rd_kafka_DescribeConsumerGroups(rk, groups, 1, options, queue)
        result("DescribeConsumerGroups")
        before = lib.rd_kafka_topic_partition_list_new(1)
        lib.rd_kafka_topic_partition_list_add(before, TOPIC.encode(), 0)
        lib.rd_kafka_topic_partition_list_set_offset(before, TOPIC.encode(), 0, 1)
        records = (p * 1)(lib.rd_kafka_DeleteRecords_new(before))
        lib.rd_kafka_topic_partition_list_destroy(before)
        lib.rd_kafka_DeleteRecords(rk, records, 1, options, queue)
        lib.rd_kafka_DeleteRecords_destroy(records[0])
        result("DeleteRecords")
        deleted = (p * 1)(lib.rd_kafka_DeleteGroup_new(GROUP.encode()))
        lib.rd_kafka_DeleteGroups(rk, deleted, 1, options, queue)
        lib.rd_kafka_DeleteGroup_destroy(deleted[0])
        result("DeleteGroups")
    finally:
        lib.rd_kafka_AdminOptions_destroy(options)
        lib.rd_kafka_queue_destroy(queue)
        lib.rd_kafka_destroy(rk)


def incremental_alter_configs(lib, rk, options, queue, result):
    """IncrementalAlterConfigs: sets one config of the topic (SET, op type 0)."""
    p = ctypes.c_void_p
    for name, restype, argtypes in [
        ("rd_kafka_ConfigResource_new", p, [ctypes.c_int, ctypes.c_char_p]),
        ("rd_kafka_ConfigResource_add_incremental_config", p, [p, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]),
        ("rd_kafka_IncrementalAlterConfigs", None, [p, ctypes.POINTER(p), ctypes.c_size_t, p, p]),
        ("rd_kafka_ConfigResource_destroy", None, [p]),
    ]:
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes
    resource = lib.rd_kafka_ConfigResource_new(2, TOPIC.encode())  # RD_KAFKA_RESOURCE_TOPIC
    if lib.rd_kafka_ConfigResource_add_incremental_config(resource, b"retention.ms", 0, b"120000"):
        raise RuntimeError("IncrementalAlterConfigs: the config was refused")
    resources = (p * 1)(resource)
    lib.rd_kafka_IncrementalAlterConfigs(rk, resources, 1, options, queue)
    lib.rd_kafka_ConfigResource_destroy(resource)
    result("IncrementalAlterConfigs")


def admin_after(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.list_groups(timeout=TIMEOUT)
    results(admin.delete_topics([TOPIC]))


if __name__ == "__main__":
    failed = []
    for step in [admin_before, produce, member, read_process_write, librdkafka_admin, admin_after]:
        try:
            step(sys.argv[1])
        except Exception as error:  # any failure: reported, and the session goes on
            traceback.print_exc()
            failed.append(f"{step.__name__}: {error}")
    print(json.dumps({"failed": failed, "librdkafka": libversion()[0], "binding": version()[0]}), flush=True)
