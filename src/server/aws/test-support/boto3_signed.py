"""boto3 against a server that verifies SigV4: argv = endpoint, access key id, secret.

Prints "signed ok" when SNS and SQS calls (query protocol, botocore's own signer) succeed,
or the error code the server answered with.
"""
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, key_id, secret = sys.argv[1:4]
session = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id=key_id,
    aws_secret_access_key=secret,
)
try:
    arn = boto3.client("sns", **session).create_topic(Name="py-signed")["TopicArn"]
    url = boto3.client("sqs", **session).create_queue(QueueName="py-signed")["QueueUrl"]
    boto3.client("sqs", **session).send_message(QueueUrl=url, MessageBody="a b+c/✓")
    print("signed ok", flush=True)
except ClientError as error:
    print("error " + error.response["Error"]["Code"], flush=True)
