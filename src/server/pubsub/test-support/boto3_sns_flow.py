"""SNS flows with boto3, as a course student would write them, against the endpoint in argv[1].

argv[2], when given, is appended to every topic and queue name, so each attempt works on
resources of its own. Exits 0 when every check holds; prints what it checked, one line each.
"""
import json
import sys
import time

import boto3

endpoint = sys.argv[1]
suffix = sys.argv[2] if len(sys.argv) > 2 else ""
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


topic = sns.create_topic(Name="py-orders" + suffix)["TopicArn"]
check("topic ARN", topic == f"arn:aws:sns:us-east-1:000000000000:py-orders{suffix}")
check("listed", {"TopicArn": topic} in sns.list_topics()["Topics"])

url = sqs.create_queue(QueueName="py-big-orders" + suffix)["QueueUrl"]
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

envelope_url = sqs.create_queue(QueueName="py-all-orders" + suffix)["QueueUrl"]
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

# Per-protocol messages: the queues get the "sqs" entry, raw and in the envelope.
check("batch enveloped too", len(receive_all(envelope_url, 3)) == 3)
raw_url = sqs.create_queue(QueueName="py-structured-raw" + suffix)["QueueUrl"]
raw_arn = sqs.get_queue_attributes(QueueUrl=raw_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=raw_arn, Attributes={"RawMessageDelivery": "true"})
structured_id = sns.publish(
    TopicArn=topic,
    MessageStructure="json",
    Message=json.dumps({"default": "for anyone", "sqs": json.dumps({"id": 20}), "email": "unused"}),
    MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "order"},
        "total": {"DataType": "Number", "StringValue": "100"},
    },
)["MessageId"]
check("structured publish, raw: the sqs entry", [m["Body"] for m in receive_all(raw_url, 1)] == ['{"id": 20}'])
wrapped = [json.loads(m["Body"]) for m in receive_all(envelope_url, 1)]
check(
    "structured publish, enveloped: Message is the sqs entry",
    wrapped[0]["MessageId"] == structured_id and json.loads(wrapped[0]["Message"]) == {"id": 20},
)
try:
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"sqs": "x"}))
    check("a structured message without default fails", False)
except sns.exceptions.InvalidParameterException as error:
    check(
        "InvalidParameterException without a default entry",
        "No default entry in JSON message body" in error.response["Error"]["Message"],
    )

# Tags.
sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "team", "Value": "py"}, {"Key": "env", "Value": "dev"}])
tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=topic)["Tags"]}
check("tags listed", tags == {"team": "py", "env": "dev"})
sns.untag_resource(ResourceArn=topic, TagKeys=["env"])
check("untagged", sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "team", "Value": "py"}])
try:
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    check("51 tags fail", False)
except sns.exceptions.TagLimitExceededException as error:
    check("TagLimitExceededException past 50 tags", error.response["Error"]["Code"] == "TagLimitExceeded")
try:
    sns.list_tags_for_resource(ResourceArn="arn:aws:sns:us-east-1:000000000000:missing")
    check("tags of a missing topic fail", False)
except sns.exceptions.ResourceNotFoundException as error:
    check("ResourceNotFoundException for a missing topic", error.response["ResponseMetadata"]["HTTPStatusCode"] == 404)

# Topic attributes as SNS answers them, and permissions edited into the stored Policy.
attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
check(
    "counts, owner and display name",
    attributes["Owner"] == "000000000000"
    and attributes["DisplayName"] == ""
    and attributes["SubscriptionsConfirmed"] == "2"
    and attributes["SubscriptionsPending"] == "0"
    and attributes["SubscriptionsDeleted"] == "1",  # the one unsubscribed above
)
default_policy = json.loads(attributes["Policy"])
check(
    "the default policy names the topic and the account",
    default_policy["Id"] == "__default_policy_ID"
    and default_policy["Statement"][0]["Resource"] == topic
    and default_policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": "000000000000"}},
)
effective = json.loads(attributes["EffectiveDeliveryPolicy"])
check("the default effective delivery policy", effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3)
sns.add_permission(TopicArn=topic, Label="partner", AWSAccountId=["111122223333"], ActionName=["Publish"])
statements = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"]
check(
    "add_permission appends a statement",
    statements[1]
    == {
        "Sid": "partner",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "SNS:Publish",
        "Resource": topic,
    },
)
try:
    sns.add_permission(TopicArn=topic, Label="partner", AWSAccountId=["111122223333"], ActionName=["Publish"])
    check("the same label twice fails", False)
except sns.exceptions.InvalidParameterException as error:
    check("InvalidParameterException for the same label", "Statement already exists" in error.response["Error"]["Message"])
sns.remove_permission(TopicArn=topic, Label="partner")
statements = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"]
check("remove_permission drops it", [s["Sid"] for s in statements] == ["__default_statement_ID"])

sns.delete_topic(TopicArn=topic)
check("deleted", {"TopicArn": topic} not in sns.list_topics()["Topics"])
print("all checks passed", flush=True)
