"""cdk-durable-agents agent kit for Python: write an agent as a function of a task.

See agents/python-kit/README.md. The core is standard library only; boto3/botocore (the ``aws``
extra) sign the callback (SigV4), and reach S3, Bedrock and Secrets Manager when deployed.
"""

import sys

from .agent import (
    ERROR_CODES,
    HEALTH_CHECK_EVENT,
    AgentFailure,
    InputError,
    ReportNotDelivered,
    RunResult,
    Task,
    clip,
    health,
    is_artifact_key,
    lambda_handler,
    model_output,
    run_agent,
    run_as_process,
    run_task,
)
from .artifacts import MAX_READ_BYTES, ArtifactError, LocalArtifactStore, S3ArtifactStore, artifact_key, artifact_store_for, check_key
from .aws import CredentialResolver, CredentialsError, StaticCredentials, sign_request, signing_region
from .callback import Delivery, DeliveryOptions, Heartbeats, is_retryable_status, post_callback, send_report, start_heartbeats
from .envelope import CALLBACK_TOKEN_HEADER, ENVELOPE_ENV, ENVELOPE_VERSION, EnvelopeError, parse_envelope, salvage_callback
from .lambda_runtime import run_lambda_runtime
from .log import Logger
from .model import (
    DEFAULT_BEDROCK_MODEL_ID,
    DEFAULT_MAX_TOKENS,
    OFFLINE_MODEL,
    OFFLINE_NOTICE,
    PROVIDER_NAMES,
    BedrockProvider,
    ModelError,
    ModelProvider,
    ModelResponse,
    ModelUsage,
    OfflineProvider,
    OpenAICompatibleProvider,
    offline_text,
    offline_tokens,
    provider_from_env,
)
from .usage import PRICE_TABLE, PRICE_TABLE_DATE, Price, UsageMeter, price_of
from .secrets import SECRETS_ENV, SecretError, resolve_secrets, secret_arn_env, secrets_manager_reader

__version__ = "0.1.0"

__all__ = [name for name, value in dict(globals()).items()
           if not name.startswith("_") and not isinstance(value, type(sys))]
