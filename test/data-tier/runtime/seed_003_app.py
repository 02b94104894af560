"""A seed-003-shaped app, for test/data-tier/runtime/seed-003-app.test.ts; not a test itself.

Like the seed's FastAPI sales agent it knows the data tier only as ``DATABASE_URL`` and
``REDIS_URL``, read from the environment at start: PostgreSQL (psycopg2, through libpq) keeps the
leads, Redis (redis-py) the webhook idempotency keys. It handles one chat message for the session
given as its argument and prints what it saw as JSON.

Every other variable the data tier hands over (``PG*``, ``REDIS_*``) is dropped before connecting,
so that libpq cannot fall back on them: the URLs alone must carry the connection.
"""

import json
import os
import sys

import psycopg2
import redis

DATABASE_URL = os.environ["DATABASE_URL"]
REDIS_URL = os.environ["REDIS_URL"]

for name in list(os.environ):
    if name.startswith("PG") or name.startswith("REDIS_"):
        del os.environ[name]


def chat(session_id, message):
    conn = psycopg2.connect(DATABASE_URL, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS leads (session_id text PRIMARY KEY, message text NOT NULL)")
            cur.execute(
                "INSERT INTO leads VALUES (%s, %s) ON CONFLICT (session_id) DO UPDATE SET message = EXCLUDED.message",
                (session_id, message),
            )
            cur.execute("SELECT message FROM leads WHERE session_id = %s", (session_id,))
            (stored,) = cur.fetchone()
            cur.execute("SELECT ssl, version, current_database(), current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ssl, version, database, user = cur.fetchone()
    finally:
        conn.close()

    cache = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        key = "webhook:%s" % session_id
        first = cache.set(key, "1", nx=True, ex=60)
        duplicate = cache.set(key, "1", nx=True, ex=60)
        pong = cache.ping()
        tls = issubclass(cache.connection_pool.connection_class, redis.SSLConnection)
    finally:
        cache.close()
    return {
        "postgres": {"ssl": ssl, "tlsVersion": version, "database": database, "user": user, "stored": stored},
        "redis": {"ping": pong, "tls": tls, "first": bool(first), "duplicate": bool(duplicate)},
    }


if __name__ == "__main__":
    print(json.dumps(chat(sys.argv[1] if len(sys.argv) > 1 else "test-123", "Hola")))
