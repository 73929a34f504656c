"""SNS flows with boto3, as a course student would write them, against the endpoint in argv[1].

Exits 0 when every check holds; prints what it checked, one line each.
"""
import json
import sys
import time

import boto3

endpoint = sys.argv[1]
session = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
sns = boto3.client("sns", **session)
sqs = boto3.client("sqs", **session)


def check(label, condition):
    if not condition:
        print(f"FAILED: {label}", flush=True)
        sys.exit(1)
    print(f"ok: {label}", flush=True)


def receive_all(url, count):
    got = []
    deadline = time.time() + 10
    while len(got) < count and time.time() < deadline:
        for m in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


topic = sns.create_topic(Name="py-orders")["TopicArn"]
check("topic ARN", topic == "arn:aws:sns:us-east-1:000000000000:py-orders")
check("listed", {"TopicArn": topic} in sns.list_topics()["Topics"])

url = sqs.create_queue(QueueName="py-big-orders")["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sub = sns.subscribe(
    TopicArn=topic,
    Protocol="sqs",
    Endpoint=queue_arn,
    Attributes={
        "FilterPolicy": json.dumps({"kind": ["order"], "total": [{"numeric": [">=", 100]}]}),
        "RawMessageDelivery": "true",
    },
    ReturnSubscriptionArn=True,
)["SubscriptionArn"]
check("subscription ARN", sub.startswith(topic + ":"))
attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
check("filter policy kept", json.loads(attributes["FilterPolicy"])["kind"] == ["order"])

envelope_url = sqs.create_queue(QueueName="py-all-orders")["QueueUrl"]
envelope_arn = sqs.get_queue_attributes(QueueUrl=envelope_url, AttributeNames=["QueueArn"])[
    "Attributes"
]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=envelope_arn)
subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
check("two subscriptions listed", sorted(s["Endpoint"] for s in subs) == sorted([queue_arn, envelope_arn]))


def publish(body, kind, total):
    return sns.publish(
        TopicArn=topic,
        Message=json.dumps(body),
        Subject="order",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": kind},
            "total": {"DataType": "Number", "StringValue": str(total)},
        },
    )["MessageId"]


publish({"id": 1}, "order", 250)
publish({"id": 2}, "order", 20)
publish({"id": 3}, "refund", 900)

big = receive_all(url, 1)
check("filtered raw delivery", [json.loads(m["Body"]) for m in big] == [{"id": 1}])
check("attributes arrive as SQS attributes", big[0]["MessageAttributes"]["kind"]["StringValue"] == "order")
check("nothing else passes the filter", "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1))

envelopes = [json.loads(m["Body"]) for m in receive_all(envelope_url, 3)]
check("envelopes of every message", sorted(json.loads(e["Message"])["id"] for e in envelopes) == [1, 2, 3])
check("envelope shape", envelopes[0]["Type"] == "Notification" and envelopes[0]["TopicArn"] == topic)

batch = sns.publish_batch(
    TopicArn=topic,
    PublishBatchRequestEntries=[
        {
            "Id": f"e{i}",
            "Message": json.dumps({"id": 10 + i}),
            "MessageAttributes": {
                "kind": {"DataType": "String", "StringValue": "order"},
                "total": {"DataType": "Number", "StringValue": "500"},
            },
        }
        for i in range(3)
    ],
)
check("batch published", len(batch["Successful"]) == 3 and batch.get("Failed", []) == [])
check("batch delivered", sorted(json.loads(m["Body"])["id"] for m in receive_all(url, 3)) == [10, 11, 12])

sns.unsubscribe(SubscriptionArn=sub)
check("unsubscribed", len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1)

try:
    sns.publish(TopicArn="arn:aws:sns:us-east-1:000000000000:missing", Message="x")
    check("publishing to a missing topic fails", False)
except sns.exceptions.NotFoundException as error:
    check("NotFoundException for a missing topic", error.response["Error"]["Code"] == "NotFound")
    check("HTTP 404", error.response["ResponseMetadata"]["HTTPStatusCode"] == 404)

try:
    sns.create_topic(Name="bad name")
    check("a bad name fails", False)
except sns.exceptions.InvalidParameterException as error:
    check("InvalidParameterException for a bad name", "Topic Name" in error.response["Error"]["Message"])

sns.delete_topic(TopicArn=topic)
check("deleted", {"TopicArn": topic} not in sns.list_topics()["Topics"])
print("all checks passed", flush=True)
