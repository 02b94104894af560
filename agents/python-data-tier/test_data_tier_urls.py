"""Tests of data_tier_urls: run with `python3 -m unittest discover -s agents/python-data-tier`.

Unit tests on the settings alone; the URLs are used against real PostgreSQL and Redis servers
(TLS only, on loopback) by test/data-tier/runtime/seed-003-app.test.ts.
"""

import io
import json
import os
import subprocess
import sys
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data_tier_urls as d  # noqa: E402

SCRIPT = os.path.join(HERE, "data_tier_urls.py")
AWKWARD_USER = "tier:user@x"
AWKWARD_PASSWORD = "p@ss:w/rd?#%&+ 20%"

# What dataTier.bindToContainer(container) hands an ECS container (the secret ones as ECS
# injects them at task start).
ECS_ENV = {
    "PGHOST": "db.abc.eu-west-1.rds.amazonaws.com",
    "PGPORT": "5432",
    "PGDATABASE": "app",
    "PGSSLMODE": "require",
    "PGUSER": AWKWARD_USER,
    "PGPASSWORD": AWKWARD_PASSWORD,
    "REDIS_HOST": "master.cache.abc.euw1.cache.amazonaws.com",
    "REDIS_PORT": "6379",
    "REDIS_TLS": "true",
    "REDIS_AUTH_TOKEN": "Tok3n",
}
# What dataTier.bindToFunction(fn) hands a Lambda function.
LAMBDA_ENV = {
    k: v for k, v in ECS_ENV.items() if k not in ("PGUSER", "PGPASSWORD", "REDIS_AUTH_TOKEN")
}
LAMBDA_ENV.update({"DATABASE_SECRET_ARN": "arn:db", "REDIS_AUTH_SECRET_ARN": "arn:redis"})

ENCODED_USER = "tier%3Auser%40x"
ENCODED_PASSWORD = "p%40ss%3Aw%2Frd%3F%23%25%26%2B%2020%25"


def secret_store(values):
    """A read_secret over a dict that records each read."""
    reads = []

    def read(arn):
        reads.append(arn)
        return values[arn]

    return read, reads


class DatabaseUrlTest(unittest.TestCase):
    def test_ecs_style_percent_encodes_and_requires_tls(self):
        self.assertEqual(
            d.database_url(ECS_ENV),
            "postgresql://%s:%s@db.abc.eu-west-1.rds.amazonaws.com:5432/app?sslmode=require" % (ENCODED_USER, ENCODED_PASSWORD),
        )

    def test_the_url_decodes_back_to_the_settings(self):
        import urllib.parse

        parts = urllib.parse.urlsplit(d.database_url(ECS_ENV))
        self.assertEqual(
            (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password), parts.hostname, parts.port, parts.path),
            (AWKWARD_USER, AWKWARD_PASSWORD, ECS_ENV["PGHOST"], 5432, "/app"),
        )

    def test_defaults_port_and_ssl_mode(self):
        env = {k: v for k, v in ECS_ENV.items() if k not in ("PGPORT", "PGSSLMODE")}
        self.assertTrue(d.database_url(env).endswith(".com:5432/app?sslmode=require"))
        self.assertTrue(d.database_url(dict(env, PGSSLMODE="")).endswith("?sslmode=require"))

    def test_root_certificate_and_ipv6_host(self):
        env = dict(ECS_ENV, PGHOST="::1", PGSSLMODE="verify-full", PGSSLROOTCERT="/etc/ssl/rds ca.pem")
        self.assertEqual(
            d.database_url(env),
            "postgresql://%s:%s@[::1]:5432/app?sslmode=verify-full&sslrootcert=%%2Fetc%%2Fssl%%2Frds%%20ca.pem" % (ENCODED_USER, ENCODED_PASSWORD),
        )

    def test_lambda_style_reads_the_database_secret(self):
        read, reads = secret_store({"arn:db": json.dumps({"username": AWKWARD_USER, "password": AWKWARD_PASSWORD, "host": "ignored", "port": 5432})})
        url = d.database_url(LAMBDA_ENV, read)
        self.assertIn("%s:%s@db.abc" % (ENCODED_USER, ENCODED_PASSWORD), url)
        self.assertEqual(reads, ["arn:db"])

    def test_the_secret_fills_in_what_the_environment_lacks(self):
        env = {"DATABASE_SECRET_ARN": "arn:db"}
        read, _ = secret_store({"arn:db": json.dumps({"username": "u", "password": "p", "host": "h", "port": 6543, "dbname": "x"})})
        self.assertEqual(d.database_url(env, read), "postgresql://u:p@h:6543/x?sslmode=require")

    def test_credentials_given_directly_win_and_no_secret_is_read(self):
        read, reads = secret_store({})
        d.database_url(dict(ECS_ENV, DATABASE_SECRET_ARN="arn:db"), read)
        self.assertEqual(reads, [])

    def test_every_call_reads_the_secret_anew_so_a_retry_sees_a_rotated_password(self):
        values = {"arn:db": json.dumps({"username": "u", "password": "old"})}
        read, reads = secret_store(values)
        self.assertIn(":old@", d.database_url(LAMBDA_ENV, read))
        values["arn:db"] = json.dumps({"username": "u", "password": "new"})
        self.assertIn(":new@", d.database_url(LAMBDA_ENV, read))
        self.assertEqual(len(reads), 2)

    def test_a_missing_setting_names_the_variable_and_the_binding(self):
        for name in ("PGHOST", "PGDATABASE", "PGUSER", "PGPASSWORD"):
            env = {k: v for k, v in ECS_ENV.items() if k != name}
            with self.assertRaises(d.DataTierSettingsError) as caught:
                d.database_url(env)
            self.assertIn("%s " % name, str(caught.exception))
            self.assertIn("bindToContainer", str(caught.exception))

    def test_a_bad_port_is_refused(self):
        for port in ("0", "65536", "54x", "-1"):
            with self.assertRaisesRegex(d.DataTierSettingsError, r"PGPORT must be a port number \(1-65535\), got '%s'" % port):
                d.database_url(dict(ECS_ENV, PGPORT=port))

    def test_a_secret_that_is_not_a_json_object_is_refused(self):
        for text in ("not json", "[1]"):
            read, _ = secret_store({"arn:db": text})
            with self.assertRaisesRegex(d.DataTierSettingsError, "DATABASE_SECRET_ARN"):
                d.database_url(LAMBDA_ENV, read)

    def test_without_boto3_or_a_reader_the_error_says_what_to_do(self):
        with mock.patch.dict(sys.modules, {"boto3": None}):
            with self.assertRaisesRegex(d.DataTierSettingsError, "boto3 is not installed: install it, or pass read_secret"):
                d.database_url(LAMBDA_ENV)

    def test_the_default_reader_calls_secrets_manager_through_boto3(self):
        client = mock.Mock()
        client.get_secret_value.return_value = {"SecretString": json.dumps({"username": "u", "password": "p"})}
        fake_boto3 = mock.Mock()
        fake_boto3.client.return_value = client
        with mock.patch.dict(sys.modules, {"boto3": fake_boto3}):
            self.assertIn("u:p@", d.database_url(LAMBDA_ENV))
        fake_boto3.client.assert_called_once_with("secretsmanager")
        client.get_secret_value.assert_called_once_with(SecretId="arn:db")


class RedisUrlTest(unittest.TestCase):
    def test_ecs_style_tls_with_the_token(self):
        self.assertEqual(d.redis_url(ECS_ENV), "rediss://:Tok3n@master.cache.abc.euw1.cache.amazonaws.com:6379")

    def test_the_token_is_percent_encoded(self):
        self.assertTrue(d.redis_url(dict(ECS_ENV, REDIS_AUTH_TOKEN="a@b:c/d")).startswith("rediss://:a%40b%3Ac%2Fd@"))

    def test_lambda_style_reads_the_token_secret(self):
        read, reads = secret_store({"arn:redis": "FromSecret"})
        self.assertTrue(d.redis_url(LAMBDA_ENV, read).startswith("rediss://:FromSecret@"))
        self.assertEqual(reads, ["arn:redis"])

    def test_plaintext_and_no_token(self):
        env = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": "7000", "REDIS_TLS": "FALSE"}
        self.assertEqual(d.redis_url(env), "redis://127.0.0.1:7000")

    def test_bad_settings_are_refused(self):
        with self.assertRaisesRegex(d.DataTierSettingsError, "REDIS_TLS must be 'true' or 'false', got 'yes'"):
            d.redis_url(dict(ECS_ENV, REDIS_TLS="yes"))
        with self.assertRaisesRegex(d.DataTierSettingsError, "REDIS_HOST is not set"):
            d.redis_url({k: v for k, v in ECS_ENV.items() if k != "REDIS_HOST"})
        with self.assertRaisesRegex(d.DataTierSettingsError, "REDIS_PORT must be a port number"):
            d.redis_url(dict(ECS_ENV, REDIS_PORT="six"))


class LauncherTest(unittest.TestCase):
    def test_main_execs_the_command_with_both_urls_and_the_rest_of_the_environment(self):
        calls = []
        code = d.main(["uvicorn", "app.main:app"], env=dict(ECS_ENV, OTHER="kept"), execvpe=lambda f, a, e: calls.append((f, a, e)))
        self.assertEqual(code, 0)
        (file, args, env), = calls
        self.assertEqual((file, args), ("uvicorn", ["uvicorn", "app.main:app"]))
        self.assertEqual(env["DATABASE_URL"], d.database_url(ECS_ENV))
        self.assertEqual(env["REDIS_URL"], d.redis_url(ECS_ENV))
        self.assertEqual(env["OTHER"], "kept")

    def test_main_stops_with_64_before_the_app_when_a_setting_is_missing(self):
        calls = []
        with mock.patch("sys.stderr", new=io.StringIO()) as err:
            code = d.main(["app"], env={"PGHOST": "h"}, execvpe=lambda *a: calls.append(a))
        self.assertEqual((code, calls), (64, []))
        self.assertIn("data_tier_urls: PGDATABASE is not set", err.getvalue())

    def test_main_without_a_command_prints_usage(self):
        with mock.patch("sys.stderr", new=io.StringIO()) as err:
            self.assertEqual(d.main([], env=ECS_ENV), 64)
        self.assertIn("usage: python3 data_tier_urls.py COMMAND", err.getvalue())

    def test_a_command_that_cannot_run_is_127(self):
        with mock.patch("sys.stderr", new=io.StringIO()) as err:
            self.assertEqual(d.main(["/nonexistent/app"], env=ECS_ENV), 127)
        self.assertIn("cannot run /nonexistent/app", err.getvalue())

    def test_as_a_process_the_app_sees_the_urls_and_no_url_is_printed(self):
        app = "import json, os; print(json.dumps([os.environ['DATABASE_URL'], os.environ['REDIS_URL']]))"
        out = subprocess.run([sys.executable, SCRIPT, sys.executable, "-c", app], env=dict(ECS_ENV, PATH=os.environ.get("PATH", "")),
                             capture_output=True, text=True, timeout=30)
        self.assertEqual((out.returncode, out.stderr), (0, ""))
        self.assertEqual(json.loads(out.stdout), [d.database_url(ECS_ENV), d.redis_url(ECS_ENV)])


if __name__ == "__main__":
    unittest.main()
