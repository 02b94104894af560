"""A minimal client of the Lambda Runtime API, so an agent image also runs as a Lambda container
image on any base image (as the Node kit's ``lambda-runtime.ts``): fetch the next event, run the
handler, post its answer or its error, repeat. On AWS's Python base images the runtime calls
``lambda_handler`` itself and this loop is not used."""

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Optional

VERSION = "2018-06-01"


class _Context:
    """The part of a Lambda context the kit offers: the request id and the remaining time."""

    def __init__(self, request_id: str, deadline_ms: Optional[str], function_arn: Optional[str]):
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self._deadline_ms = int(deadline_ms) if deadline_ms and deadline_ms.isdigit() else None

    def get_remaining_time_in_millis(self) -> int:
        import time
        return max(0, self._deadline_ms - int(time.time() * 1000)) if self._deadline_ms is not None else 0


def run_lambda_runtime(handler: Callable[[Any, Any], Any], api: str, max_invocations: Optional[int] = None) -> None:
    """Serves invocations from the Runtime API at ``api`` (``host:port``, ``AWS_LAMBDA_RUNTIME_API``)."""
    base = "http://%s/%s/runtime" % (api, VERSION)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    n = 0
    while max_invocations is None or n < max_invocations:
        n += 1
        with opener.open(urllib.request.Request(base + "/invocation/next")) as res:
            if res.status != 200:
                raise RuntimeError("the Lambda Runtime API answered %d for the next invocation" % res.status)
            request_id = res.headers.get("Lambda-Runtime-Aws-Request-Id")
            if not request_id:
                raise RuntimeError("the Lambda Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id")
            trace = res.headers.get("Lambda-Runtime-Trace-Id")
            if trace:
                os.environ["_X_AMZN_TRACE_ID"] = trace
            else:
                os.environ.pop("_X_AMZN_TRACE_ID", None)
            context = _Context(request_id, res.headers.get("Lambda-Runtime-Deadline-Ms"), res.headers.get("Lambda-Runtime-Invoked-Function-Arn"))
            text = res.read().decode("utf-8")
        headers = {"content-type": "application/json"}
        try:
            result = handler(json.loads(text) if text else {}, context)
            path, body = "response", json.dumps(result)
        except Exception as e:
            path = "error"
            body = json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)})
            headers["lambda-runtime-function-error-type"] = "Unhandled"
        url = "%s/invocation/%s/%s" % (base, urllib.parse.quote(request_id, safe=""), path)
        try:
            with opener.open(urllib.request.Request(url, data=body.encode("utf-8"), headers=headers, method="POST")) as res:
                res.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError("the Lambda Runtime API refused the %s of %s: %d" % (path, request_id, e.code)) from None
