"""The course's Kafka workshop (Lab 2, Part B) producer-tuning exercise, against Sluice.

`optimize_producer_config` below is the course's snippet as written; `test_configuration` is
the part the course leaves to the student: it produces with kafka-python at the given settings
and returns records per second. Usage: course_producer_tuning.py BOOTSTRAP RECORDS
"""
import json
import sys
import time

from kafka import KafkaProducer

BOOTSTRAP = sys.argv[1]
RECORDS = int(sys.argv[2])
VALUE = b"x" * 100


def test_configuration(batch_size, linger_ms, compression):
    producer = KafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        batch_size=batch_size,
        linger_ms=linger_ms,
        compression_type=None if compression == "none" else compression,
    )
    started = time.perf_counter()
    sent = [producer.send("performance-test", VALUE) for _ in range(RECORDS)]
    for future in sent:
        future.get(timeout=30)
    elapsed = time.perf_counter() - started
    producer.close()
    return RECORDS / elapsed


# --- the course's snippet, as written -------------------------------------------------------
# Interactive tuning exercise
def optimize_producer_config():
    configs = {
        'batch.size': [16384, 32768, 65536],
        'linger.ms': [0, 5, 10, 20],
        'compression.type': ['none', 'gzip', 'snappy', 'lz4']
    }
    
    best_config = {}
    best_throughput = 0
    
    for batch_size in configs['batch.size']:
        for linger_ms in configs['linger.ms']:
            for compression in configs['compression.type']:
                throughput = test_configuration(batch_size, linger_ms, compression)
                if throughput > best_throughput:
                    best_throughput = throughput
                    best_config = {
                        'batch.size': batch_size,
                        'linger.ms': linger_ms,
                        'compression.type': compression
                    }
    
    return best_config, best_throughput
# --- end of the course's snippet ------------------------------------------------------------


if __name__ == "__main__":
    config, throughput = optimize_producer_config()
    print(json.dumps({"best": config, "throughput": throughput}), flush=True)
