"""The container health check of the sales app (ECS runs it in the container): exit 0 when
``GET <prefix>/health`` answers 200 with ``{"status": "ok"}``, 1 otherwise. The image has no curl."""

import json
import os
import sys
import urllib.request

URL = "http://127.0.0.1:%s%s/health" % (os.environ.get("PORT", "8000"), os.environ.get("SALES_PATH_PREFIX", "/sales").rstrip("/"))

try:
    with urllib.request.urlopen(URL, timeout=3) as response:
        healthy = response.status == 200 and json.load(response).get("status") == "ok"
except Exception as e:  # noqa: BLE001 - any failure is unhealthy
    sys.stderr.write("healthcheck: %s: %s\n" % (URL, e))
    healthy = False
sys.exit(0 if healthy else 1)
