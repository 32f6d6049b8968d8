"""boto3 against the s3conform reference endpoint: put, get and a conditional put.

Run by tests/boto3_client.rs with S3CONFORM_ENDPOINT, S3CONFORM_ACCESS_KEY and
S3CONFORM_SECRET_KEY set. boto3's default checksum behaviour (aws-chunked bodies with CRC
trailers on recent releases) is kept on purpose: the endpoint must speak what a stock client
speaks, not only what our own SDK layer sends. Prints one line per step; exits non-zero on the
first wrong answer.
"""

import hashlib
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def main() -> int:
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["S3CONFORM_ENDPOINT"],
        aws_access_key_id=os.environ["S3CONFORM_ACCESS_KEY"],
        aws_secret_access_key=os.environ["S3CONFORM_SECRET_KEY"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    bucket = "boto3-smoke"
    s3.create_bucket(Bucket=bucket)
    print("create_bucket: ok")

    put = s3.put_object(Bucket=bucket, Key="k", Body=b"hello from boto3", Metadata={"who": "boto3"})
    etag = put["ETag"]
    assert etag == '"%s"' % hashlib.md5(b"hello from boto3").hexdigest(), etag
    print("put_object: ok", etag)

    got = s3.get_object(Bucket=bucket, Key="k")
    body = got["Body"].read()
    assert body == b"hello from boto3", body
    assert got["ETag"] == etag, (got["ETag"], etag)
    assert got["Metadata"] == {"who": "boto3"}, got["Metadata"]
    print("get_object: ok")

    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    except ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        code = e.response["Error"]["Code"]
        assert (status, code) == (412, "PreconditionFailed"), (status, code)
        print("conditional put on an existing key: 412 PreconditionFailed")
    else:
        print("conditional put on an existing key was accepted", file=sys.stderr)
        return 1

    again = s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    assert again == b"hello from boto3", again
    new = s3.put_object(Bucket=bucket, Key="fresh", Body=b"x", IfNoneMatch="*")
    assert new["ResponseMetadata"]["HTTPStatusCode"] == 200
    print("conditional put on a new key: ok")

    swapped = s3.put_object(Bucket=bucket, Key="k", Body=b"third", IfMatch=etag)
    assert swapped["ETag"] != etag
    print("compare-and-swap put: ok")
    print("BOTO3 SMOKE PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
