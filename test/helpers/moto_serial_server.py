"""moto_server for the tests (test/helpers/moto.ts): one request at a time, on a port it picks.

`moto_server` answers each request in a thread of its own, and moto's DynamoDB checks a
condition and then writes without holding a lock in between: two concurrent conditional writes
to one item can both succeed, which DynamoDB never allows. On a loaded machine the workflow
store's "exactly one of N concurrent updates wins" contract tests failed that way (measured: 7 of
600 rounds of 10 concurrent conditional UpdateItem calls had two winners; 0 of 600 with the lock
below). Handling one request at a time makes every call atomic, as DynamoDB's single-item writes
and transactions are.

The server binds port 0 and prints `port <n>` on stdout once it listens, so no other process can
take the port between choosing it and binding it.

Usage: python3 moto_serial_server.py [host]
"""
import os
import signal
import sys
import threading

try:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
except ImportError as e:  # pragma: no cover - reported to the test helper on stderr
    sys.stderr.write(f"{sys.executable} cannot import moto's server ({e}): pip install -r .ci/requirements-ci.txt\n")
    sys.exit(3)


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            # moto builds its whole response here (a list of bytes), so the lock covers the work.
            return app(environ, start_response)

    server = make_server(host, 0, one_at_a_time, threaded=True)
    # moto builds some URLs (e.g. SQS queue URLs) from MOTO_PORT, as moto_server sets it.
    os.environ["MOTO_PORT"] = str(server.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"port {server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
