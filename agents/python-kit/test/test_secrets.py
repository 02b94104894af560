import os
import unittest
from unittest import mock

from support import kit, require_module


class ResolveSecretsTest(unittest.TestCase):
    def test_reads_each_listed_secret_into_its_variable_and_says_which_it_read(self):
        env = {"AGENT_SECRETS": "OPENAI_API_KEY, DB_PASSWORD", "OPENAI_API_KEY_SECRET_ARN": "arn:key", "DB_PASSWORD_SECRET_ARN": "arn:db"}
        read = []
        names = kit.resolve_secrets(env, lambda arn: read.append(arn) or "value-of-" + arn)
        self.assertEqual(names, ["OPENAI_API_KEY", "DB_PASSWORD"])
        self.assertEqual((env["OPENAI_API_KEY"], env["DB_PASSWORD"]), ("value-of-arn:key", "value-of-arn:db"))
        self.assertEqual(read, ["arn:key", "arn:db"])

    def test_reads_a_secret_once_a_variable_with_a_value_keeps_it(self):
        env = {"AGENT_SECRETS": "TOKEN", "TOKEN_SECRET_ARN": "arn:t", "TOKEN": "already"}
        self.assertEqual(kit.resolve_secrets(env, lambda arn: self.fail("read again")), [])
        self.assertEqual(env["TOKEN"], "already")

    def test_reads_only_what_agent_secrets_lists(self):
        env = {"DATA_TIER_SECRET_ARN": "arn:dt"}
        self.assertEqual(kit.resolve_secrets(env, lambda arn: self.fail("not listed")), [])
        self.assertNotIn("DATA_TIER", env)

    def test_names_the_variable_and_the_secret_when_one_cannot_be_read(self):
        with self.assertRaisesRegex(kit.SecretError, "^AGENT_SECRETS lists TOKEN, but TOKEN_SECRET_ARN is not set: give the ARN"):
            kit.resolve_secrets({"AGENT_SECRETS": "TOKEN"}, lambda arn: "x")
        with self.assertRaisesRegex(kit.SecretError, "^AGENT_SECRETS lists 'not-a-name', which is not an environment variable name$"):
            kit.resolve_secrets({"AGENT_SECRETS": "not-a-name"}, lambda arn: "x")

        def fail(arn):
            raise PermissionError("AccessDenied")

        with self.assertRaisesRegex(kit.SecretError, "^could not read TOKEN from the secret arn:t: PermissionError: AccessDenied$"):
            kit.resolve_secrets({"AGENT_SECRETS": "TOKEN", "TOKEN_SECRET_ARN": "arn:t"}, fail)

    def test_the_names_are_those_of_the_contract(self):
        self.assertEqual(kit.SECRETS_ENV, "AGENT_SECRETS")
        self.assertEqual(kit.secret_arn_env("OPENAI_API_KEY"), "OPENAI_API_KEY_SECRET_ARN")


class SecretsManagerReaderTest(unittest.TestCase):
    """Against moto's in-process Secrets Manager (boto3 and moto from .ci/requirements-ci.txt)."""

    def test_reads_a_secrets_string_by_its_arn_and_says_so_when_it_is_missing(self):
        moto = require_module(self, "moto")
        require_module(self, "boto3")
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
        with mock.patch.dict(os.environ, env), moto.mock_aws():
            import boto3
            arn = boto3.client("secretsmanager").create_secret(Name="model-key", SecretString="sk-123")["ARN"]
            target = {"AGENT_SECRETS": "OPENAI_API_KEY", "OPENAI_API_KEY_SECRET_ARN": arn}
            self.assertEqual(kit.resolve_secrets(target), ["OPENAI_API_KEY"])  # the default reader: Secrets Manager
            self.assertEqual(target["OPENAI_API_KEY"], "sk-123")
            missing = {"AGENT_SECRETS": "X", "X_SECRET_ARN": arn + "-gone"}
            with self.assertRaisesRegex(kit.SecretError, "^could not read X from the secret .*-gone: ResourceNotFoundException: "):
                kit.resolve_secrets(missing)


if __name__ == "__main__":
    unittest.main()
