"""EventBridge tags and archive updates with boto3, against the endpoint in argv[1].

argv[2] is the phase: "set" tags resources and updates an archive; "check" (run after the
server restarted on the same data directory) reads them back. Exits 0 when every check holds.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, phase = sys.argv[1], sys.argv[2]
events = boto3.client(
    "events",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
bus = "py-tagged"
bus_arn = f"arn:aws:events:us-east-1:000000000000:event-bus/{bus}"
rule_arn = f"arn:aws:events:us-east-1:000000000000:rule/{bus}/py-tagged-rule"
default_arn = "arn:aws:events:us-east-1:000000000000:event-bus/default"
pattern = json.dumps({"source": ["shop.orders"]})


def check(label, condition):
    if not condition:
        print(f"FAILED: {label}", flush=True)
        sys.exit(1)
    print(f"ok: {label}", flush=True)


def tags(arn):
    return {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


if phase == "set":
    check("a bus created with tags", events.create_event_bus(Name=bus, Tags=[{"Key": "team", "Value": "shop"}])["EventBusArn"] == bus_arn)
    created = events.put_rule(Name="py-tagged-rule", EventBusName=bus, EventPattern=pattern, Tags=[{"Key": "env", "Value": "test"}])
    check("a rule created with tags", created["RuleArn"] == rule_arn and tags(rule_arn) == {"env": "test"})
    events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": ""}])
    events.untag_resource(ResourceARN=rule_arn, TagKeys=["env"])
    check("tagged and untagged", tags(rule_arn) == {"owner": ""})
    events.put_rule(Name="py-tagged-rule", EventBusName=bus, EventPattern=pattern, Tags=[{"Key": "ignored", "Value": "x"}])
    check("PutRule on an existing rule leaves its tags", tags(rule_arn) == {"owner": ""})
    events.tag_resource(ResourceARN=default_arn, Tags=[{"Key": "k", "Value": "v"}])
    check("the default bus tagged", tags(default_arn) == {"k": "v"})
    check(
        "an unknown rule ARN is ResourceNotFoundException",
        error_code(lambda: events.list_tags_for_resource(ResourceARN=rule_arn + "-missing")) == "ResourceNotFoundException",
    )
    check(
        "51 tags are a ValidationException",
        error_code(lambda: events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(51)]))
        == "ValidationException",
    )
    check(
        "a 257-character value is a ValidationException",
        error_code(lambda: events.tag_resource(ResourceARN=rule_arn, Tags=[{"Key": "k", "Value": "v" * 257}])) == "ValidationException",
    )
    events.create_archive(ArchiveName="py-archive", EventSourceArn=bus_arn, RetentionDays=1)
    updated = events.update_archive(ArchiveName="py-archive", Description="orders", EventPattern=pattern, RetentionDays=30)
    check("archive updated", updated["State"] == "ENABLED" and updated["ArchiveArn"].endswith(":archive/py-archive"))
    # (botocore itself refuses a negative RetentionDays before sending it.)
    check(
        "a bad pattern is InvalidEventPatternException, and the archive keeps its own",
        error_code(lambda: events.update_archive(ArchiveName="py-archive", EventPattern='{"source": "x"}'))
        == "InvalidEventPatternException"
        and events.describe_archive(ArchiveName="py-archive")["EventPattern"] == pattern,
    )
    try:
        events.update_archive(ArchiveName="py-no-archive", Description="x")
        check("a missing archive raises", False)
    except events.exceptions.ResourceNotFoundException:
        check("a missing archive raises ResourceNotFoundException", True)
elif phase == "check":
    check("bus tags after the restart", tags(bus_arn) == {"team": "shop"})
    check("rule tags after the restart", tags(rule_arn) == {"owner": ""})
    check("default bus tags after the restart", tags(default_arn) == {"k": "v"})
    archive = events.describe_archive(ArchiveName="py-archive")
    check(
        "the archive update after the restart",
        (archive.get("Description"), archive.get("EventPattern"), archive["RetentionDays"]) == ("orders", pattern, 30),
    )
else:
    sys.exit(f"unknown phase {phase}")
print("all checks passed", flush=True)
