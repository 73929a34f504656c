"""EventBridge flows with boto3, as a course student would write them, against the endpoint in argv[1].

argv[2], when given, is appended to the bus and queue names, so each attempt works on
resources of its own (the rules live in the bus). Exits 0 when every check holds; prints what it
checked, one line each.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
suffix = sys.argv[2] if len(sys.argv) > 2 else ""
config = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
events = boto3.client("events", **config)
sqs = boto3.client("sqs", **config)


def check(label, condition):
    if not condition:
        print(f"FAILED: {label}", flush=True)
        sys.exit(1)
    print(f"ok: {label}", flush=True)


def queue(name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def bodies(url, count):
    got = []
    for _ in range(10):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            got.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= count:
            break
    return got


bus = "py-shop" + suffix
events.create_event_bus(Name=bus)
all_url, all_arn = queue("py-eb-all" + suffix)
note_url, note_arn = queue("py-eb-notes" + suffix)
pattern = {"source": ["shop.orders"], "detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 100]}]}}
rule_arn = events.put_rule(Name="py-big-orders", EventBusName=bus, EventPattern=json.dumps(pattern))["RuleArn"]
check("rule ARN names the bus", rule_arn.endswith(f":rule/{bus}/py-big-orders"))
targets = events.put_targets(
    Rule="py-big-orders",
    EventBusName=bus,
    Targets=[
        {"Id": "all", "Arn": all_arn},
        {
            "Id": "note",
            "Arn": note_arn,
            "InputTransformer": {
                "InputPathsMap": {"id": "$.detail.orderId", "total": "$.detail.total"},
                "InputTemplate": '{"order": <id>, "amount": <total>, "rule": "<aws.events.rule-name>"}',
            },
        },
    ],
)
check("targets added", targets["FailedEntryCount"] == 0)
events.put_rule(Name="py-other", EventBusName=bus, EventPattern=json.dumps({"source": ["shop.refunds"]}))
events.put_targets(Rule="py-other", EventBusName=bus, Targets=[{"Id": "all", "Arn": all_arn}])
check(
    "rules by target",
    sorted(events.list_rule_names_by_target(TargetArn=all_arn, EventBusName=bus)["RuleNames"]) == ["py-big-orders", "py-other"]
    and events.list_rule_names_by_target(TargetArn=note_arn, EventBusName=bus)["RuleNames"] == ["py-big-orders"]
    and events.list_rule_names_by_target(TargetArn=all_arn)["RuleNames"] == [],
)

sent = events.put_events(
    Entries=[
        {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"orderId": "o-1", "total": 150}), "EventBusName": bus},
        {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"orderId": "o-2", "total": 50}), "EventBusName": bus},
        {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": "not json", "EventBusName": bus},
    ]
)
check("one entry refused, in its own result", sent["FailedEntryCount"] == 1 and sent["Entries"][2]["ErrorCode"] == "MalformedDetail")
delivered = [json.loads(b) for b in bodies(all_url, 1)]
check("the matching event reaches the queue whole", [(e["source"], e["detail"]) for e in delivered] == [("shop.orders", {"orderId": "o-1", "total": 150})])
check("transformed by the input template", [json.loads(b) for b in bodies(note_url, 1)] == [{"order": "o-1", "amount": 150, "rule": "py-big-orders"}])

described = events.describe_event_bus(Name=bus)
check("a bus described by name", (described["Name"], described["Arn"]) == (bus, f"arn:aws:events:us-east-1:000000000000:event-bus/{bus}"))
check("the default bus described", events.describe_event_bus()["Name"] == "default")
try:
    events.describe_event_bus(Name="py-no-bus")
    check("a missing bus raises", False)
except events.exceptions.ResourceNotFoundException:
    check("a missing bus raises ResourceNotFoundException", True)

try:
    events.list_api_destinations()
    check("an operation this server does not serve raises", False)
except ClientError as error:
    check(
        "an operation not served is UnknownOperationException (EventBridge sends no query error code)",
        error.response["Error"]["Code"] == "UnknownOperationException",
    )

try:
    events.put_targets(Rule="py-missing", EventBusName=bus, Targets=[{"Id": "x", "Arn": all_arn}])
    check("a missing rule raises", False)
except events.exceptions.ResourceNotFoundException:
    check("a missing rule raises ResourceNotFoundException", True)

events.remove_targets(Rule="py-big-orders", EventBusName=bus, Ids=["all", "note"])
events.delete_rule(Name="py-big-orders", EventBusName=bus)
events.delete_rule(Name="py-other", EventBusName=bus, Force=True)
events.delete_event_bus(Name=bus)
print("all checks passed", flush=True)
