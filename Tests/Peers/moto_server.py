#!/usr/bin/env python3
"""S3 test peer: moto_server on a loopback port with SigV4 signature checking ON.

Started by the S3 tests (through Tests/TestSupport/MotoPeer.swift) and bench/upload.sh. It prints ONE JSON line on stdout
once it is ready, then serves until stdin closes (or it is killed):

    {"port": 43127, "endpoint": "http://127.0.0.1:43127",
     "user":  {"access_key_id": ..., "secret_access_key": ...},          # IAM user with the documented policy
     "admin": {"access_key_id": ..., "secret_access_key": ...},          # IAM user with s3:* (for inspection)
     "session": {"access_key_id": ..., "secret_access_key": ..., "session_token": ...}}  # assumed role

Four things are added around moto (nothing else is changed):

1. Signature checking against the RAW request target. moto 5.2 with Werkzeug 3.1 rebuilds the URL it verifies
   from the *decoded* path and query, so a correctly signed request whose key or query holds a percent-escape
   (`?prefix=media%2Fa%2F`, keys with spaces or non-ASCII) gets 403 SignatureDoesNotMatch (boto3 gets the same
   403). AWS S3 signs the request target as sent; so the patch below hands moto's authenticator the raw target
   (Werkzeug's `RAW_URI`). Everything else in the check (keys, signed headers, payload hash, policy) is moto's.
2. A request log (`GET /_peer/log`): every request's start and end, in order, with method, raw target, status
   (except the peer's own inspection calls, signed with the admin keys).
3. A payload check moto lacks and AWS does: a body that does not match its `x-amz-content-sha256` is refused
   (400 XAmzContentSHA256Mismatch), so every upload path's payload hash is verified.
4. Fault injection (`POST /_peer/faults`, JSON list of rules, added to the current ones): answer `status` (e.g. 503 SlowDown) to the next
   `count` requests matching `method` and a substring of the target, or hold them `delay` seconds first (given up
   at once if the client goes away); with `after`, not before a request whose target contains it has arrived;
   with `until_ended` (and `until_ended_count`, default 1), held until that many other requests whose target
   contains it have ended (at most `delay` seconds, 60 by default).

Inspection endpoints (answered from moto through boto3 with the admin keys, an oracle independent of the client
under test): `GET /_peer/objects?bucket=B` (key, size, etag, content type, cache control),
`GET /_peer/object?bucket=B&key=K` (the bytes), `GET /_peer/uploads?bucket=B` (multipart uploads in progress),
`POST /_peer/bucket?name=B` (create a bucket).
"""
import hashlib
import io
import json
import logging
import os
import select
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

os.environ.setdefault("AWS_ACCESS_KEY_ID", "setup")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "setup")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import boto3  # noqa: E402
from botocore.config import Config as BotoConfig  # noqa: E402
from moto import settings  # noqa: E402
from moto.core import authorization  # noqa: E402
from moto.core.responses import BaseResponse  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

# --- 1. verify signatures against the raw request target -------------------------------------------------------
_original_setup_class = BaseResponse.setup_class
_original_authenticate = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _setup_class(self, request, full_url, headers, *args, **kwargs):
    environ = getattr(request, "environ", None) or {}
    self._peer_raw_target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    return _original_setup_class(self, request, full_url, headers, *args, **kwargs)


def _authenticate(self, iam_request_cls, resource="*"):
    raw = getattr(self, "_peer_raw_target", None)
    if not raw:
        return _original_authenticate(self, iam_request_cls, resource)
    decoded = self.uri
    parts = urlsplit(decoded)
    self.uri = f"{parts.scheme}://{parts.netloc}{raw}"  # moto takes path + query from this URL
    try:
        return _original_authenticate(self, iam_request_cls, resource)
    finally:
        self.uri = decoded


BaseResponse.setup_class = _setup_class
authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate

# --- 2 and 3. request log and fault injection, as WSGI middleware -----------------------------------------------
_lock = threading.Lock()
_log = []
_faults = []
_state = {}

# What watchfolder documents as the IAM policy it needs (README, "IAM policy"); the "user" keys get exactly this.
DOCUMENTED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow",
         "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
         "Resource": "arn:aws:s3:::*/*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
         "Resource": "arn:aws:s3:::*"},
    ],
}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _json(start_response, status, value):
    body = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _admin():
    return boto3.client("s3", endpoint_url=_state["endpoint"], region_name="us-east-1",
                        aws_access_key_id=_state["admin"]["access_key_id"],
                        aws_secret_access_key=_state["admin"]["secret_access_key"],
                        config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def _control(environ, start_response, path):
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
    method = environ["REQUEST_METHOD"]
    if path == "/_peer/log":
        with _lock:
            return _json(start_response, "200 OK", list(_log))
    if path == "/_peer/faults" and method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        rules = json.loads(environ["wsgi.input"].read(length) or b"[]")
        with _lock:
            _faults.extend(rules)  # scope rules to a test by putting its bucket name in "match"
        return _json(start_response, "200 OK", {"ok": True})
    if path == "/_peer/bucket" and method == "POST":
        _admin().create_bucket(Bucket=query["name"])
        return _json(start_response, "200 OK", {"ok": True})
    if path == "/_peer/objects":
        s3 = _admin()
        out = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=query["bucket"]):
            for obj in page.get("Contents", []):
                head = s3.head_object(Bucket=query["bucket"], Key=obj["Key"])
                out.append({"key": obj["Key"], "size": obj["Size"], "etag": obj["ETag"].strip('"'),
                            "content_type": head.get("ContentType"), "cache_control": head.get("CacheControl")})
        return _json(start_response, "200 OK", out)
    if path == "/_peer/uploads":
        resp = _admin().list_multipart_uploads(Bucket=query["bucket"])
        return _json(start_response, "200 OK",
                     [{"key": u["Key"], "upload_id": u["UploadId"]} for u in resp.get("Uploads", [])])
    if path == "/_peer/object":
        body = _admin().get_object(Bucket=query["bucket"], Key=query["key"])["Body"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
        return [body]
    return _json(start_response, "404 Not Found", {"error": "unknown peer endpoint " + path})


def _hold(environ, seconds, until=lambda: False):
    """Holds a request `seconds` (or until `until()`), but gives it up as soon as its client has gone (a killed
    daemon): a held request is never carried out after its client died, however late the test looks at the bucket."""
    deadline = time.monotonic() + seconds
    sock = environ.get("werkzeug.socket")
    poller = select.poll()
    if sock is not None:
        poller.register(sock.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while (left := deadline - time.monotonic()) > 0 and not until():
        if poller.poll(min(left, 0.05) * 1000):
            raise ConnectionAbortedError("the client went away while its request was held")


def middleware(app):
    def wrapped(environ, start_response):
        # Every request logged as started is logged as ended, even one whose client went away (a killed daemon).
        try:
            return handle(environ, start_response)
        except Exception as error:
            if "peer.started" in environ and "peer.ended" not in environ:
                method, target = environ["peer.started"]
                with _lock:
                    _log.append({"event": "end", "method": method, "target": target, "status": None,
                                 "t": time.time(), "error": str(error)})
            raise

    def handle(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_peer/"):
            try:
                return _control(environ, start_response, path)
            except Exception as error:  # report, do not crash the peer
                return _json(start_response, "500 Internal Server Error", {"error": str(error)})
        if "admin" in _state and _state["admin"]["access_key_id"] in environ.get("HTTP_AUTHORIZATION", ""):
            return app(environ, start_response)  # the peer's own inspection calls: not logged, never faulted
        method = environ["REQUEST_METHOD"]
        target = environ.get("RAW_URI") or path
        rule = None
        with _lock:
            _log.append({"event": "start", "method": method, "target": target, "t": time.time()})
            environ["peer.started"] = (method, target)
            for r in _faults:
                if r.get("count", 0) > 0 and r.get("method", method) == method and r.get("match", "") in target:
                    r["count"] -= 1
                    rule = dict(r)
                    break
        if rule and rule.get("after"):
            _hold(environ, 60, until=lambda: any(e["event"] == "start" and rule["after"] in e["target"] for e in list(_log)))
        if rule and rule.get("until_ended"):
            want, other = rule.get("until_ended_count", 1), rule["until_ended"]
            _hold(environ, rule.get("delay") or 60, until=lambda: sum(
                1 for e in list(_log) if e["event"] == "end" and other in e["target"] and e["target"] != target) >= want)
        elif rule and rule.get("delay"):
            _hold(environ, rule["delay"])
        if rule and rule.get("status"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                environ["wsgi.input"].read(length)
            code = rule.get("code", "SlowDown")
            body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
                    f"<Message>{rule.get('message', 'Please reduce your request rate.')}</Message></Error>").encode()
            with _lock:
                _log.append({"event": "end", "method": method, "target": target, "status": rule["status"],
                             "t": time.time(), "injected": True})
                environ["peer.ended"] = True
            start_response(f"{rule['status']} Injected", [("Content-Type", "application/xml"),
                                                          ("Content-Length", str(len(body)))])
            return [body]
        # Like AWS S3 (moto does not check it): the body must match its x-amz-content-sha256.
        declared = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length and declared and not declared.startswith(("UNSIGNED-PAYLOAD", "STREAMING-")):
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            if hashlib.sha256(body).hexdigest() != declared:
                with _lock:
                    _log.append({"event": "end", "method": method, "target": target, "status": 400,
                                 "t": time.time()})
                    environ["peer.ended"] = True
                error = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>XAmzContentSHA256Mismatch</Code>"
                         b"<Message>The provided 'x-amz-content-sha256' header does not match what was computed."
                         b"</Message></Error>")
                start_response("400 Bad Request", [("Content-Type", "application/xml"),
                                                   ("Content-Length", str(len(error)))])
                return [error]
        status_holder = {}

        def recording_start_response(status, headers, exc_info=None):
            status_holder["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        result = app(environ, recording_start_response)
        with _lock:
            _log.append({"event": "end", "method": method, "target": target, "status": status_holder.get("status"),
                         "t": time.time()})
            environ["peer.ended"] = True
        return result
    return wrapped


def _setup_iam(endpoint):
    """Creates the IAM users and the assumed-role session while moto still answers without authentication."""
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup",
              aws_secret_access_key="setup")
    iam = boto3.client("iam", **kw)
    users = {}
    for name, policy in (("watchfolder", DOCUMENTED_POLICY), ("admin", ADMIN_POLICY)):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        users[name] = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="watchfolder-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName="watchfolder-role", PolicyName="s3",
                        PolicyDocument=json.dumps(DOCUMENTED_POLICY))
    sts = boto3.client("sts", **kw)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="wf", DurationSeconds=3600)["Credentials"]
    session = {"access_key_id": creds["AccessKeyId"], "secret_access_key": creds["SecretAccessKey"],
               "session_token": creds["SessionToken"]}
    return users["watchfolder"], users["admin"], session


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log: stderr is for real errors
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")  # set-up calls below run unauthenticated
    app = middleware(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    endpoint = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    user, admin, session = _setup_iam(endpoint)
    # From here on every request must carry a valid SigV4 signature from a known key, allowed by its policy.
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    _state.update(endpoint=endpoint, admin=admin)
    with _lock:
        _log.clear()
    print(json.dumps({"port": port, "endpoint": endpoint, "user": user, "admin": admin, "session": session}),
          flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or kills us)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
