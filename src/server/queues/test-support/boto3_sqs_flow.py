"""SQS flows with boto3, as a course student would write them, against the endpoint in argv[1].

argv[2], when given, is appended to every queue name, so each attempt works on queues of its own.
Exits 0 when every check holds; prints what it checked, one line each.
"""
import json
import sys
import time

import boto3

endpoint = sys.argv[1]
suffix = sys.argv[2] if len(sys.argv) > 2 else ""


def name(base):
    """A queue name of this attempt; FIFO names keep their .fifo ending."""
    if base.endswith(".fifo"):
        return base[: -len(".fifo")] + suffix + ".fifo"
    return base + suffix

sqs = boto3.client(
    "sqs",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)


def check(label, condition):
    if not condition:
        print(f"FAILED: {label}", flush=True)
        sys.exit(1)
    print(f"ok: {label}", flush=True)


url = sqs.create_queue(QueueName=name("py-orders"), Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
check("queue URL points at the server", url == f"{endpoint}/000000000000/{name('py-orders')}")

# boto3 checks the MD5 of the body and of the attributes it gets back.
sent = sqs.send_message(
    QueueUrl=url,
    MessageBody=json.dumps({"order": 1, "note": "<&>"}),
    MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "order"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe"},
    },
)
check("send returns a message id", len(sent["MessageId"]) == 36)

got = sqs.receive_message(
    QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1
)["Messages"]
check("receive returns the message", json.loads(got[0]["Body"]) == {"order": 1, "note": "<&>"})
check("binary attribute intact", got[0]["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01\xfe")
check("receive count", got[0]["Attributes"]["ApproximateReceiveCount"] == "1")
sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])

entries = [{"Id": f"m{i}", "MessageBody": f"body {i}"} for i in range(10)]
batch = sqs.send_message_batch(QueueUrl=url, Entries=entries)
check("batch of 10 sent", len(batch["Successful"]) == 10)
bodies = []
while len(bodies) < 10:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    bodies += [m["Body"] for m in messages]
    if messages:
        deleted = sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        check("batch delete", len(deleted["Successful"]) == len(messages))
check("all batch bodies received", sorted(bodies) == sorted(e["MessageBody"] for e in entries))

fifo = sqs.create_queue(
    QueueName=name("py-jobs.fifo"),
    Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
)["QueueUrl"]
for body in ["a", "b", "a", "c"]:
    sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
check("FIFO order with content-based deduplication", [m["Body"] for m in got] == ["a", "b", "c"])

check("no attributes named, none returned (as SQS answers)", "Attributes" not in sqs.get_queue_attributes(QueueUrl=fifo))
check("a named attribute returned", sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["FifoQueue"])["Attributes"] == {"FifoQueue": "true"})

dlq = sqs.create_queue(QueueName=name("py-dlq"))["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
work = sqs.create_queue(
    QueueName=name("py-work"),
    Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})},
)["QueueUrl"]
sqs.send_message(QueueUrl=work, MessageBody="poison")
sqs.receive_message(QueueUrl=work, VisibilityTimeout=0)
check("dead-lettered after maxReceiveCount", "Messages" not in sqs.receive_message(QueueUrl=work))
dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2)["Messages"]
check("message arrives in the DLQ", [m["Body"] for m in dead] == ["poison"])
sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
check("DLQ lists its source", sources == [work])

sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=dead[0]["ReceiptHandle"], VisibilityTimeout=0)
task = sqs.start_message_move_task(SourceArn=dlq_arn) if hasattr(sqs, "start_message_move_task") else None
if task is not None:
    deadline = time.time() + 10
    back = []
    while not back and time.time() < deadline:
        back = sqs.receive_message(QueueUrl=work, WaitTimeSeconds=1).get("Messages", [])
    check("move task redrives to the source", [m["Body"] for m in back] == ["poison"])

# The access policy an SNS-to-SQS tutorial sets before subscribing the queue: stored, not enforced.
policy = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": dlq_arn,
            }
        ],
    }
)
sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"Policy": policy})
stored = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["Policy"])["Attributes"]["Policy"]
check("an access policy is kept", json.loads(stored) == json.loads(policy))
try:
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"Policy": "not json"})
    check("a policy that is not JSON raises", False)
except sqs.exceptions.ClientError as error:
    check("a policy that is not JSON is InvalidAttributeValue", error.response["Error"]["Code"] == "InvalidAttributeValue")

# AddPermission writes a statement (Sid = Label) into the stored Policy; RemovePermission drops it.
shared = sqs.create_queue(QueueName=name("py-shared"))["QueueUrl"]
shared_arn = sqs.get_queue_attributes(QueueUrl=shared, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sqs.add_permission(QueueUrl=shared, Label="partner", AWSAccountIds=["111122223333"], Actions=["SendMessage", "ReceiveMessage"])
granted = json.loads(sqs.get_queue_attributes(QueueUrl=shared, AttributeNames=["Policy"])["Attributes"]["Policy"])
check(
    "add_permission writes the statement",
    granted["Statement"]
    == [
        {
            "Sid": "partner",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": ["SQS:SendMessage", "SQS:ReceiveMessage"],
            "Resource": shared_arn,
        }
    ],
)
try:
    sqs.add_permission(QueueUrl=shared, Label="partner", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    check("a second statement with the same label raises", False)
except sqs.exceptions.ClientError as error:
    check("the same label again is InvalidParameterValue", error.response["Error"]["Code"] == "InvalidParameterValue")
try:
    sqs.add_permission(QueueUrl=shared, Label="many", AWSAccountIds=["111122223333"], Actions=["SendMessage"] * 8)
    check("eight actions raise", False)
except sqs.exceptions.OverLimit:
    check("eight actions are OverLimit", True)
sqs.remove_permission(QueueUrl=shared, Label="partner")
check("remove_permission drops it", "Policy" not in sqs.get_queue_attributes(QueueUrl=shared, AttributeNames=["Policy"]).get("Attributes", {}))
try:
    sqs.remove_permission(QueueUrl=shared, Label="partner")
    check("removing a missing label raises", False)
except sqs.exceptions.ClientError as error:
    check("removing a missing label is InvalidParameterValue", error.response["Error"]["Code"] == "InvalidParameterValue")

try:
    sqs.get_queue_url(QueueName="does-not-exist")
    check("a missing queue raises", False)
except sqs.exceptions.QueueDoesNotExist as error:
    check(
        "a missing queue raises QueueDoesNotExist",
        error.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue",
    )

try:
    sqs.send_message(QueueUrl=f"{endpoint}/000000000000/gone", MessageBody="x")
    check("send to a missing queue raises", False)
except sqs.exceptions.QueueDoesNotExist:
    check("send to a missing queue raises QueueDoesNotExist", True)

print("all checks passed", flush=True)
