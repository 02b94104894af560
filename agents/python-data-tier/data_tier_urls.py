#!/usr/bin/env python3
"""DATABASE_URL and REDIS_URL for a Python app, from the settings a cdk-durable-agents DataTier hands over.

Standard library only (Python 3.8 or later); copy this one file into your image.

The data tier never puts a URL holding the password anywhere: ECS injects ``PGUSER``,
``PGPASSWORD`` and ``REDIS_AUTH_TOKEN`` from Secrets Manager at each task start
(``dataTier.bindToContainer``), and a Lambda function gets ``DATABASE_SECRET_ARN`` and
``REDIS_AUTH_SECRET_ARN`` to read them at run time (``dataTier.bindToFunction``). This module
builds the URLs from either:

    from data_tier_urls import database_url, redis_url
    engine = sqlalchemy.create_engine(database_url())   # postgresql://u:p@host:5432/app?sslmode=require
    cache = redis.Redis.from_url(redis_url())           # rediss://:token@host:6379

or, for an app that reads ``DATABASE_URL`` / ``REDIS_URL`` itself and must not change, launches it
with both set (the same URLs as the ``/bin/sh`` wrapper of ``DataTier.connectionUrlCommand``):

    python3 data_tier_urls.py uvicorn app.main:app --host 0.0.0.0 --port 8000

Each call reads the environment (and, in the secret-ARN style, the secret) anew and caches
nothing: after an authentication failure, call it again to pick up a rotated password.

User, password, token and database name are percent-encoded (every byte but letters, digits and
``-._~``). A missing or malformed setting raises ``DataTierSettingsError`` naming the variable.
"""

import json
import os
import re
import sys
import urllib.parse

__all__ = [
    "DataTierSettingsError",
    "connection_urls",
    "database_url",
    "main",
    "redis_url",
    "secrets_manager_reader",
]

# The names the data tier sets (src/contract/data-tier.ts, DATA_TIER_ENV).
PG_HOST = "PGHOST"
PG_PORT = "PGPORT"
PG_DATABASE = "PGDATABASE"
PG_USER = "PGUSER"
PG_PASSWORD = "PGPASSWORD"
PG_SSL_MODE = "PGSSLMODE"
PG_SSL_ROOT_CERT = "PGSSLROOTCERT"
REDIS_HOST = "REDIS_HOST"
REDIS_PORT = "REDIS_PORT"
REDIS_TLS = "REDIS_TLS"
REDIS_AUTH_TOKEN = "REDIS_AUTH_TOKEN"
DATABASE_SECRET_ARN = "DATABASE_SECRET_ARN"
REDIS_AUTH_SECRET_ARN = "REDIS_AUTH_SECRET_ARN"
DATABASE_URL = "DATABASE_URL"
REDIS_URL = "REDIS_URL"

#: The libpq SSL mode the data tier hands over: its PostgreSQL refuses plaintext.
DEFAULT_SSL_MODE = "require"

_BIND_HINT = (
    "Give the process the data tier's settings: dataTier.bindToContainer(container) for an ECS "
    "container, dataTier.bindToFunction(fn) for a Lambda function"
)


class DataTierSettingsError(Exception):
    """A setting is missing or malformed; the message says which one and how to fix it."""


def _enc(value):
    return urllib.parse.quote(value, safe="")


def _host_port(host, port):
    return "[%s]:%d" % (host, port) if ":" in host and not host.startswith("[") else "%s:%d" % (host, port)


def _required(value, name):
    if value is None or value == "":
        raise DataTierSettingsError("%s is not set. %s" % (name, _BIND_HINT))
    return value


def _port(text, name):
    text = str(text)
    # As the container wrapper: ASCII digits, no leading zero, no spaces.
    if not re.fullmatch(r"[1-9][0-9]{0,4}", text) or int(text) > 65535:
        raise DataTierSettingsError("%s must be a port number (1-65535), got %r" % (name, text))
    return int(text)


def secrets_manager_reader():
    """The default secret reader: AWS Secrets Manager through boto3 (in the Lambda Python runtime).

    boto3 is imported only here, so the rest of the module needs nothing but the standard library.
    Elsewhere, install boto3 or pass ``read_secret`` (a function of the secret's ARN that returns
    its string value).
    """
    try:
        import boto3  # noqa: PLC0415 - optional, only for the secret-ARN style
    except ImportError:
        raise DataTierSettingsError(
            "%s or %s is set, so a secret must be read, but boto3 is not installed: install it, or pass "
            "read_secret (a function of the secret ARN returning its string value)" % (DATABASE_SECRET_ARN, REDIS_AUTH_SECRET_ARN)
        ) from None
    client = boto3.client("secretsmanager")

    def read(secret_id):
        out = client.get_secret_value(SecretId=secret_id)
        if "SecretString" not in out:
            raise DataTierSettingsError("Secret %s has no string value (binary secrets are not data tier secrets)" % secret_id)
        return out["SecretString"]

    return read


def _read(read_secret, secret_id):
    reader = read_secret if read_secret is not None else secrets_manager_reader()
    return reader(secret_id)


def _database_secret(text):
    try:
        parsed = json.loads(text)
    except ValueError:
        raise DataTierSettingsError(
            "The secret named by %s is not JSON; it must be the database secret the data tier created "
            "(username, password, host, port)" % DATABASE_SECRET_ARN
        ) from None
    if not isinstance(parsed, dict):
        raise DataTierSettingsError("The secret named by %s must be a JSON object with username and password" % DATABASE_SECRET_ARN)
    return parsed


def database_url(env=None, read_secret=None):
    """``postgresql://user:password@host:port/database?sslmode=require``, percent-encoded.

    ECS style: ``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``, ``PGPASSWORD``, ``PGSSLMODE``.
    Lambda style: the same plain settings, with the credentials read from the secret named by
    ``DATABASE_SECRET_ARN`` (with ``read_secret``, or boto3). A value given directly wins over the
    secret's. ``PGSSLROOTCERT``, when set, goes into the URL as ``sslrootcert``.

    :param env: the environment (default ``os.environ``)
    :param read_secret: reads a secret's string value by ARN; needed only in the Lambda style
    """
    env = os.environ if env is None else env
    secret = {}
    if not (env.get(PG_USER) and env.get(PG_PASSWORD) is not None) and env.get(DATABASE_SECRET_ARN):
        secret = _database_secret(_read(read_secret, env[DATABASE_SECRET_ARN]))

    def pick(name, key):
        value = env.get(name)
        if value is None and secret.get(key) is not None:
            value = str(secret[key])
        return value

    with_arn = "%s (or %s)"
    host = _required(pick(PG_HOST, "host"), PG_HOST)
    port = _port(pick(PG_PORT, "port") or "5432", PG_PORT)
    database = _required(pick(PG_DATABASE, "dbname"), PG_DATABASE)
    user = _required(pick(PG_USER, "username"), with_arn % (PG_USER, DATABASE_SECRET_ARN))
    password = _required(pick(PG_PASSWORD, "password"), with_arn % (PG_PASSWORD, DATABASE_SECRET_ARN))
    mode = env.get(PG_SSL_MODE) or DEFAULT_SSL_MODE
    # With a CA bundle, 'require' becomes 'verify-full': libpq checks the certificate and host name only then.
    if env.get(PG_SSL_ROOT_CERT) and mode == "require":
        mode = "verify-full"
    query = "sslmode=" + _enc(mode)
    if env.get(PG_SSL_ROOT_CERT):
        query += "&sslrootcert=" + _enc(env[PG_SSL_ROOT_CERT])
    return "postgresql://%s:%s@%s/%s?%s" % (_enc(user), _enc(password), _host_port(host, port), _enc(database), query)


def redis_url(env=None, read_secret=None):
    """``rediss://:token@host:port`` (``redis://`` when ``REDIS_TLS`` is ``false``), percent-encoded.

    The AUTH token comes from ``REDIS_AUTH_TOKEN`` (ECS) or the secret named by
    ``REDIS_AUTH_SECRET_ARN`` (Lambda, read with ``read_secret`` or boto3).
    """
    env = os.environ if env is None else env
    token = env.get(REDIS_AUTH_TOKEN)
    if token is None and env.get(REDIS_AUTH_SECRET_ARN):
        token = _read(read_secret, env[REDIS_AUTH_SECRET_ARN])
    tls = (env.get(REDIS_TLS) or "true").lower()
    if tls not in ("true", "false"):
        raise DataTierSettingsError("%s must be 'true' or 'false', got %r" % (REDIS_TLS, env.get(REDIS_TLS)))
    host = _required(env.get(REDIS_HOST), REDIS_HOST)
    port = _port(env.get(REDIS_PORT) or "6379", REDIS_PORT)
    auth = ":%s@" % _enc(token) if token else ""
    return "%s://%s%s" % ("rediss" if tls == "true" else "redis", auth, _host_port(host, port))


def connection_urls(env=None, read_secret=None):
    """Both URLs: ``{"DATABASE_URL": ..., "REDIS_URL": ...}``."""
    return {DATABASE_URL: database_url(env, read_secret), REDIS_URL: redis_url(env, read_secret)}


def main(argv=None, env=None, read_secret=None, execvpe=os.execvpe):
    """``python3 data_tier_urls.py COMMAND [ARGS...]``: runs COMMAND with DATABASE_URL and REDIS_URL set.

    Exit code 64 (and a message on stderr naming the setting) when a setting is missing or no
    command is given, 127 when COMMAND cannot be run; otherwise the process becomes COMMAND.
    """
    argv = sys.argv[1:] if argv is None else argv
    env = dict(os.environ if env is None else env)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python3 data_tier_urls.py COMMAND [ARGS...]\n"
                         "runs COMMAND with DATABASE_URL and REDIS_URL built from the data tier's settings\n")
        return 64
    try:
        env.update(connection_urls(env, read_secret))
    except DataTierSettingsError as e:
        sys.stderr.write("data_tier_urls: %s\n" % e)
        return 64
    try:
        execvpe(argv[0], argv, env)
    except OSError as e:
        sys.stderr.write("data_tier_urls: cannot run %s: %s\n" % (argv[0], e.strerror or e))
        return 127
    return 0  # not reached with the real execvpe


if __name__ == "__main__":
    sys.exit(main())
