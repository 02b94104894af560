"""Secrets an agent reads when it starts (as the Node kit, ``agents/kit/src/secrets.ts``).

A ``ContainerAgent`` lists their names in ``AGENT_SECRETS`` (comma-separated) and passes each
one's ARN in ``<name>_SECRET_ARN``: a Lambda agent's ``secrets`` (Lambda has no secret
injection), and the API key of an OpenAI-compatible model (``OPENAI_API_KEY``).
:func:`resolve_secrets` reads each secret's string from AWS Secrets Manager into ``<name>``.
Only the names listed are read, so another ``..._SECRET_ARN`` variable (e.g. a data tier's) is
left alone; a name that already has a value keeps it (a warm Lambda environment reads each
secret once).
"""

import os
import re
from typing import Any, Callable, List, MutableMapping, Optional

from .aws import boto3_client

#: The variable that lists the names of the secrets to read (src/contract/agents.ts AGENT_SECRETS_ENV).
SECRETS_ENV = "AGENT_SECRETS"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SecretReader = Callable[[str], str]


class SecretError(Exception):
    """A secret that is listed but cannot be read. Reported with code ``AgentError``."""


def secret_arn_env(name: str) -> str:
    """The variable that carries the ARN of the secret read into ``name`` (src/contract/agents.ts secretArnEnv)."""
    return "%s_SECRET_ARN" % name


def secrets_manager_reader(client: Any = None) -> SecretReader:
    """A reader over AWS Secrets Manager (GetSecretValue; the secret's string). The client is made at the first read."""
    made = [client]

    def read(secret_arn: str) -> str:
        if made[0] is None:
            made[0] = boto3_client("secretsmanager")
        out = made[0].get_secret_value(SecretId=secret_arn)
        value = out.get("SecretString")
        if not isinstance(value, str):
            raise ValueError("the secret has no string value (a binary secret cannot be an environment variable)")
        return value

    return read


def _error_text(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict) and (response.get("Error") or {}).get("Code"):
        return "%s: %s" % (response["Error"]["Code"], response["Error"].get("Message", e))
    return "%s: %s" % (type(e).__name__, e)


def resolve_secrets(env: Optional[MutableMapping[str, str]] = None, read: Optional[SecretReader] = None) -> List[str]:
    """Reads the secrets ``AGENT_SECRETS`` lists into ``env`` (default ``os.environ``): each ``<name>``
    from ``<name>_SECRET_ARN``. Returns the names it read (not their values). Raises
    :class:`SecretError` naming the variable when one cannot be read."""
    env = os.environ if env is None else env
    names = [n.strip() for n in (env.get(SECRETS_ENV) or "").split(",") if n.strip()]
    reader = read
    resolved: List[str] = []
    for name in names:
        if not _NAME.match(name):
            raise SecretError("%s lists '%s', which is not an environment variable name" % (SECRETS_ENV, name))
        if env.get(name):
            continue
        arn = env.get(secret_arn_env(name))
        if not arn:
            raise SecretError("%s lists %s, but %s is not set: give the ARN of the secret to read into %s"
                              % (SECRETS_ENV, name, secret_arn_env(name), name))
        if reader is None:
            reader = secrets_manager_reader()
        try:
            value = reader(arn)
        except Exception as e:
            raise SecretError("could not read %s from the secret %s: %s" % (name, arn, _error_text(e))) from None
        env[name] = value
        resolved.append(name)
    return resolved
