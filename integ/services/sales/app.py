"""The sales agent of integ/integ.seed-003-sales-agent.ts: a stand-in for seed 003's FastAPI app.

Standard library ``http.server`` with psycopg2 and redis-py, so the image stays small. Like the
seed's app it knows the data tier only as ``DATABASE_URL`` and ``REDIS_URL``, read from the
environment at start (the container's command is wrapped by ``DataTier.connectionUrlCommand``,
which builds both from what ``dataTier.bindToContainer`` hands over and then runs this file), and
its API keys as ``OPENAI_API_KEY`` and ``TWILIO_AUTH_TOKEN`` (ECS secrets, which may still hold the
placeholder the stack created them with: the app starts and answers all the same).

The service receives the full path, the API's prefix included (``SALES_PATH_PREFIX``, ``/sales``):

- ``GET /sales/health``: ``{"status": "ok"}`` (the load balancer's, the container's and the API's
  anonymous health check);
- ``POST /sales/chat`` ``{"message": "...", "session_id"?, "message_id"?, "channel"?}`` (anonymous:
  a web chat and Twilio webhooks cannot sign requests): stores the message in PostgreSQL (its
  table is created when missing), counts it in Redis, and answers ``{"reply", "session_id",
  "message_id", "messages_stored", "messages_counted", "duplicate", "secrets"}``. A repeated
  ``message_id`` (a webhook delivered twice, a retried request) is stored and counted once;
  ``messages_stored`` is the number of messages of the session in PostgreSQL, ``messages_counted``
  the session's counter in Redis;
- ``GET /sales/conversations/<session_id>``: the session's messages (IAM-authorized at the API:
  staff tools, not the public).

A request the app cannot act on gets a 4xx with a message saying why; a store that cannot be
reached gets 503 and nothing half-written (the Redis count follows a committed insert only).
"""

import json
import os
import re
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import redis

PREFIX = os.environ.get("SALES_PATH_PREFIX", "/sales").rstrip("/")
PORT = int(os.environ.get("PORT", "8000"))
#: The application secrets the stack creates with a placeholder for the user to replace.
APP_SECRETS = ("OPENAI_API_KEY", "TWILIO_AUTH_TOKEN")
MAX_BODY_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 4000
CHANNELS = ("web", "sms", "whatsapp")
ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        sys.stderr.write(
            "sales: %s is not set; run the app through DataTier.connectionUrlCommand (or data_tier_urls.py), "
            "which builds it from the data tier's settings\n" % name
        )
        sys.exit(64)
    return value


DATABASE_URL = _required_env("DATABASE_URL")
REDIS_URL = _required_env("REDIS_URL")

CACHE = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
_schema_ready = False
_schema_lock = threading.Lock()


class Rejected(Exception):
    """A request the app cannot act on: answered with ``status`` and a message saying why."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def secret_state(name):
    """``"set"``, or ``"placeholder"`` while the secret still holds the JSON the stack created it with."""
    value = os.environ.get(name, "")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not value or (isinstance(parsed, dict) and "placeholder" in parsed):
        return "placeholder"
    return "set"


def connect():
    return psycopg2.connect(DATABASE_URL, connect_timeout=5, application_name="sales")


def ensure_schema(conn):
    """Creates the messages table when missing, once per process (an advisory lock orders the tasks)."""
    global _schema_ready
    with _schema_lock:
        if _schema_ready:
            return
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(3003)")
            cur.execute(
                "CREATE TABLE IF NOT EXISTS sales_messages ("
                " message_id text PRIMARY KEY,"
                " session_id text NOT NULL,"
                " channel text NOT NULL,"
                " message text NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("CREATE INDEX IF NOT EXISTS sales_messages_session ON sales_messages (session_id, created_at)")
        _schema_ready = True


def parse_chat(body):
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Rejected(400, 'the body must be JSON: {"message": "...", "session_id": "..."}') from None
    if not isinstance(data, dict):
        raise Rejected(400, 'the body must be a JSON object: {"message": "...", "session_id": "..."}')
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise Rejected(400, "message is required: a non-empty string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise Rejected(400, "message has %d characters; at most %d are accepted" % (len(message), MAX_MESSAGE_CHARS))
    session_id = data.get("session_id", str(uuid.uuid4()))
    message_id = data.get("message_id", str(uuid.uuid4()))
    for name, value in (("session_id", session_id), ("message_id", message_id)):
        if not isinstance(value, str) or not ID.match(value):
            raise Rejected(400, "%s must be 1 to 128 letters, digits or . _ : -, got %s" % (name, json.dumps(value)[:140]))
    channel = data.get("channel", "web")
    if channel not in CHANNELS:
        raise Rejected(400, "channel must be one of %s, got %s" % (", ".join(CHANNELS), json.dumps(channel)[:40]))
    return {"message": message.strip(), "session_id": session_id, "message_id": message_id, "channel": channel}


def chat(request):
    conn = connect()
    try:
        ensure_schema(conn)
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO sales_messages (message_id, session_id, channel, message) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
                (request["message_id"], request["session_id"], request["channel"], request["message"]),
            )
            inserted = cur.fetchone() is not None
            cur.execute("SELECT count(*) FROM sales_messages WHERE session_id = %s", (request["session_id"],))
            (stored,) = cur.fetchone()
    finally:
        conn.close()
    # A set of message ids, added to on every request: a retry after a failure here counts the
    # message once, whether or not the row was inserted by the earlier attempt.
    counter = "sales:session:%s:message-ids" % request["session_id"]
    CACHE.sadd(counter, request["message_id"])
    counted = CACHE.scard(counter)
    secrets = {name: secret_state(name) for name in APP_SECRETS}
    model = "none: OPENAI_API_KEY still holds its placeholder" if secrets["OPENAI_API_KEY"] == "placeholder" else "configured"
    return {
        "reply": "Hola! Thanks for your message; a sales advisor will follow up on it. (model: %s)" % model,
        "session_id": request["session_id"],
        "message_id": request["message_id"],
        "messages_stored": stored,
        "messages_counted": counted,
        "duplicate": not inserted,
        "secrets": secrets,
    }


def conversation(session_id):
    if not ID.match(session_id):
        raise Rejected(400, "the session id must be 1 to 128 letters, digits or . _ : -")
    conn = connect()
    try:
        ensure_schema(conn)
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT message_id, channel, message, created_at FROM sales_messages WHERE session_id = %s ORDER BY created_at, message_id",
                (session_id,),
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    return {
        "session_id": session_id,
        "messages": [{"message_id": m, "channel": c, "message": t, "created_at": at.isoformat()} for m, c, t, at in rows],
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "sales/1"
    protocol_version = "HTTP/1.1"

    def _send(self, status, payload):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("cache-control", "no-store")
        self.send_header("content-length", str(len(body)))
        if status >= 400:
            # The request's body may not have been read: do not reuse the connection.
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _route(self, method):
        path = self.path.split("?", 1)[0]
        try:
            if path == PREFIX + "/health":
                if method != "GET":
                    raise Rejected(405, "use GET %s/health" % PREFIX)
                return self._send(200, {"status": "ok"})
            if path == PREFIX + "/chat":
                if method != "POST":
                    raise Rejected(405, "use POST %s/chat with a JSON body" % PREFIX)
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    raise Rejected(413, "the body has %d bytes; at most %d are accepted" % (length, MAX_BODY_BYTES))
                return self._send(200, chat(parse_chat(self.rfile.read(length))))
            if path.startswith(PREFIX + "/conversations/"):
                if method != "GET":
                    raise Rejected(405, "use GET %s/conversations/<session_id>" % PREFIX)
                return self._send(200, conversation(path[len(PREFIX + "/conversations/"):]))
            raise Rejected(404, "no such route: %s %s" % (method, path))
        except Rejected as e:
            return self._send(e.status, {"error": "bad request" if e.status == 400 else "rejected", "message": str(e)})
        except (psycopg2.Error, redis.RedisError) as e:
            store = "PostgreSQL" if isinstance(e, psycopg2.Error) else "Redis"
            self.log_message("%s unavailable: %s", store, type(e).__name__)
            return self._send(503, {"error": "unavailable", "message": "%s cannot be reached right now; try again" % store})

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def log_message(self, fmt, *args):
        sys.stdout.write(json.dumps({"client": self.address_string(), "message": fmt % args}) + "\n")


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    # ECS stops a task with SIGTERM: finish the requests in flight, then exit.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    sys.stdout.write(json.dumps({"message": "sales listening on port %d under %s" % (PORT, PREFIX),
                                 "secrets": {name: secret_state(name) for name in APP_SECRETS}}) + "\n")
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
