"""moto's server with IAM enforced, for test_deploy_iam.py: run as
`python moto_iam_server.py PORT` with INITIAL_NO_AUTH_ACTION_COUNT=0.

One fix to moto's signature check. moto verifies a request's SigV4 signature
by rebuilding the request, but for a form-encoded body (the query protocol of
SNS and SQS) werkzeug has already parsed the body into fields, so moto
rebuilds it from them with botocore's encoding. Other SDKs encode differently
(the Rust SDK writes a space as %20, botocore as +), so a correctly signed
`Publish` from the function binaries would be refused. This server keeps each
request's raw body and gives it to the signature check; IAM evaluation is
moto's own, with one addition: a `BatchGetSecretValue` also needs
`GetSecretValue`, as on AWS. Each refusal is printed (`IAM refused
<action>`), so the test can tell which action a run was refused.
"""

from __future__ import annotations

import io
import sys
import threading

from moto.iam import access_control
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

_request = threading.local()  # the werkzeug server handles each request on its own thread


def keep_raw_body(app):
    def wrapped(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
        elif environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        _request.body = body
        return app(environ, start_response)

    return wrapped


_rebuild = access_control.IAMRequestBase._create_aws_request


def _create_aws_request(self):
    if not self._body:
        self._body = getattr(_request, "body", b"")
    return _rebuild(self)


access_control.IAMRequestBase._create_aws_request = _create_aws_request

_check = access_control.IAMRequestBase.check_action_permitted


def checked(request, action, resource):
    request._action = action
    try:
        return _check(request, resource)
    except Exception:
        print(f"IAM refused {action} on {resource}", flush=True)
        raise


def check_action_permitted(self, resource):
    action = self._action
    allowed = checked(self, action, resource)
    if action == "secretsmanager:BatchGetSecretValue":
        # AWS also requires GetSecretValue on each secret the batch reads;
        # moto checks the batch action only. Its Secrets Manager checks
        # against "*", so one check of GetSecretValue stands for each.
        try:
            checked(self, "secretsmanager:GetSecretValue", resource)
        finally:
            self._action = action
    return allowed


access_control.IAMRequestBase.check_action_permitted = check_action_permitted


if __name__ == "__main__":
    port = int(sys.argv[1])
    app = keep_raw_body(DomainDispatcherApplication(create_backend_app))
    make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler).serve_forever()
