"""The platform of app.ts, written as a Python team writes it against the published wheel.

Every construct of the library (and the imported forms of the API and the orchestrator), every
workflow step kind, and the interfaces a team implements in Python (IWorkflowAgent, called back
for its name; IDispatchableAgent, called back to bind, which calls the library by keyword), with
jsii's runtime type checks on (they run only when ``__debug__`` is true: never under ``python -O``
or ``PYTHONOPTIMIZE``; the app refuses to run without them). test/python/run.sh (``npx projen test:python-app``) synthesizes
it in a virtual environment holding the wheel, ``aws-cdk-lib``, ``constructs`` and the ``jsii``
runtime, and compares the template with that of the TypeScript twin, app.ts.

    python app.py <outdir>

Keep it in step with app.ts: a change to one without the other fails the comparison.
"""

import json
import sys

import jsii
from aws_cdk import App, Duration, Stack, Environment
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from cdk_durable_agents import (
    AgentArchitecture,
    AgentCompute,
    AgentDispatch,
    AgentImage,
    AgentModel,
    AgentStep,
    AgentTarget,
    AlarmConfig,
    AlarmDestination,
    ApiAuthorization,
    ApiCanary,
    ApiCanaryAlarms,
    ApprovalStep,
    ApprovalTimeoutAction,
    ChoiceCase,
    ChoiceStep,
    ContainerAgent,
    ContainerAgentAlarms,
    DataTier,
    DataTierAlarms,
    DataTierProfile,
    DurableOrchestrator,
    IDispatchableAgent,
    IWorkflowAgent,
    OrchestratorAlarms,
    ParallelBranch,
    ParallelStep,
    PlatformDashboard,
    PublishStep,
    ReferenceWorkflows,
    RetryPolicy,
    SecureApi,
    SecureApiAlarms,
    SecureApiServiceRouteOptions,
    ServiceAlarms,
    ServiceCapacity,
    StepInput,
    WorkflowAgent,
    WorkflowDefinition,
    WorkflowInput,
)

NGINX = "public.ecr.aws/nginx/nginx:stable-alpine"
AGENT_BASE = "public.ecr.aws/docker/library/python:3.12-slim"


def require_type_checks() -> None:
    """Fails unless jsii's runtime type checks run: the point of this app is to pass them."""
    if not __debug__ or sys.flags.optimize:
        sys.exit("app.py: Python runs optimized (-O or PYTHONOPTIMIZE), so jsii's type checks are off: run it without")
    try:
        StepInput.literal_string(42)  # type: ignore[arg-type]
    except TypeError as e:
        if "argument value" not in str(e):
            raise
        return
    sys.exit("app.py: StepInput.literal_string(42) was accepted: jsii's runtime type checks (typeguard) are not running")


require_type_checks()

ACCOUNT = "123456789012"
REGION = "us-east-1"

# The zones a lookup would find, given as cdk.context.json gives them: synth needs no AWS account.
app = App(
    outdir=sys.argv[1] if len(sys.argv) > 1 else "cdk.out",
    context={f"availability-zones:account={ACCOUNT}:region={REGION}": [f"{REGION}a", f"{REGION}b", f"{REGION}c"]},
)
stack = Stack(app, "DurableAgentsPlatform", env=Environment(account=ACCOUNT, region=REGION))

# Monitoring: one key for the platform, every alarm to one encrypted email topic.
key = kms.Key(stack, "PlatformKey", enable_key_rotation=True, description="Platform data, logs and alarms")
oncall = AlarmDestination.email("oncall@example.com", encryption_key=key)

# Data tiers: a production one (three AZs) and an ephemeral scratch one.
data = DataTier(
    stack,
    "Data",
    profile=DataTierProfile.production(),
    max_azs=3,
    nat_gateways=3,
    encryption_key=key,
    alarm_actions=oncall,
    alarms=DataTierAlarms(
        database_cpu=AlarmConfig(threshold=70, evaluation_periods=3),
        cache_evictions=AlarmConfig(enabled=False),
    ),
)
scratch = DataTier(stack, "Scratch", profile=DataTierProfile.ephemeral(), database_name="scratch", nat_gateways=1)
scratch_job = lambda_.Function(
    stack,
    "ScratchJob",
    runtime=lambda_.Runtime.NODEJS_22_X,
    handler="index.handler",
    code=lambda_.Code.from_inline("exports.handler = async () => ({ ok: true });"),
    vpc=scratch.vpc,
)
scratch.bind_to_function(scratch_job)

# The API: a Lambda route, a public service on the data tier, an internal service.
api = SecureApi(
    stack,
    "Api",
    vpc=data.vpc,
    authorization=ApiAuthorization.jwt(issuer="https://issuer.example.com", audience=["platform"]),
    throttling_rate_limit=50,
    throttling_burst_limit=100,
    log_encryption_key=key,
    alarm_actions=oncall,
    alarms=SecureApiAlarms(latency=AlarmConfig(threshold=2000)),
    health_canary=True,
)
items = lambda_.Function(
    stack,
    "ItemsFunction",
    runtime=lambda_.Runtime.NODEJS_22_X,
    handler="index.handler",
    code=lambda_.Code.from_inline('exports.handler = async () => ({ statusCode: 200, body: "[]" });'),
)
api.add_lambda_route(
    "Items",
    path="/items",
    methods=[apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
    handler=items,
    authorization=ApiAuthorization.iam(),
)
web = api.add_service(
    "Web",
    image=ecs.ContainerImage.from_registry(NGINX),
    path_prefix="/web",
    container_port=8080,
    desired_count=2,
    max_capacity=4,
    capacity=ServiceCapacity.spot(on_demand_base=1),
    command=DataTier.connection_url_command(["nginx", "-g", "daemon off;"]),
    environment={"ENGINE_HOST": "engine"},
    routes=[SecureApiServiceRouteOptions(path="/web/admin", methods=[apigwv2.HttpMethod.POST], authorization_scopes=["admin"])],
    alarms=ServiceAlarms(cpu_utilization=AlarmConfig(threshold=85)),
)
web_container = web.task_definition.find_container(web.container_name)
assert web_container is not None, f"the web service has no container named {web.container_name}"
data.bind_to_container(web_container)
data.allow_default_ports_from(web)
engine = api.add_internal_service(
    "Engine",
    image=ecs.ContainerImage.from_registry(NGINX),
    container_port=50051,
    discovery_name="engine",
    capacity=ServiceCapacity.on_demand(),
    health_check=ecs.HealthCheck(
        command=["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:50051/health || exit 1"],
        interval=Duration.seconds(15),
    ),
)
engine.connections.allow_from(web, ec2.Port.tcp(50051), "the web service calls the engine")

# Agents: Fargate from a registry, Lambda from an ECR repository, Lambda from a new repository.
researcher = ContainerAgent(
    stack,
    "Researcher",
    agent_name="researcher",
    image=AgentImage.from_registry(AGENT_BASE),
    compute=AgentCompute.fargate(vpc=data.vpc, cpu=1024, memory_limit_mib=2048),
    models=[AgentModel.bedrock("anthropic.claude-3-5-sonnet-20240620-v1:0")],
    environment={"LOG_LEVEL": "info"},
    local_command=["python3", "agents/researcher/main.py"],
    log_encryption_key=key,
    alarm_actions=oncall,
)
analyst_repository = ecr.Repository(stack, "AnalystRepository", image_scan_on_push=True)
analyst = ContainerAgent(
    stack,
    "Analyst",
    agent_name="analyst",
    image=AgentImage.from_ecr_repository(analyst_repository, "v1"),
    compute=AgentCompute.lambda_function(memory_size=1024, timeout=Duration.minutes(5), reserved_concurrent_executions=5),
    architecture=AgentArchitecture.X86_64,
    models=[AgentModel.bedrock_inference_profile("us.anthropic.claude-3-5-haiku-20241022-v1:0", regions=["us-east-1", "us-west-2"])],
    alarms=ContainerAgentAlarms(errors=AlarmConfig(threshold=2)),
)
writer = ContainerAgent(
    stack,
    "Writer",
    agent_name="writer",
    image=AgentImage.from_new_repository("v1", max_image_count=5),
    compute=AgentCompute.lambda_function(),
    models=[AgentModel.open_ai_compatible(endpoint="https://models.example.com/v1", model="writer-large")],
)

# A workflow with every step kind: agents (every kind of input, retries, heartbeats), parallel
# branches, a choice on a step's output, an approval, and a publish.
pipeline = WorkflowDefinition(
    workflow_name="platform-pipeline",
    description="Research, analyse in parallel, route on the verdict, approve and publish.",
    # Declared inputs: every kind of field (POST /workflows refuses an input that does not match).
    inputs={
        "topic": WorkflowInput.text(required=True, min_length=1, max_length=500, description="What to research"),
        "parameters": WorkflowInput.object_of(
            fields={
                "depth": WorkflowInput.text(allowed_values=["brief", "standard", "comprehensive"]),
                "sources": WorkflowInput.list_of(items=WorkflowInput.text(max_length=40), min_items=1, max_items=5),
                "budget": WorkflowInput.number(minimum=0.5, maximum=100),
                "reviewers": WorkflowInput.integer(allowed_values=[1, 2, 3]),
                "draft": WorkflowInput.flag(),
            },
            additional_fields=True,
        ),
    },
    additional_inputs=False,
    steps=[
        AgentStep(
            step_name="research",
            agent=researcher,
            input={
                "topic": StepInput.from_workflow_input("topic"),
                "depth": StepInput.from_optional_workflow_input("parameters.depth"),
                "style": StepInput.literal_string("brief"),
            },
            timeout=Duration.minutes(30),
            heartbeat_timeout=Duration.minutes(5),
            retry=RetryPolicy.exponential(
                max_attempts=3, initial_delay=Duration.seconds(10), backoff_rate=2, max_delay=Duration.minutes(2)
            ),
        ),
        ParallelStep(
            step_name="analysis",
            branches=[
                ParallelBranch(
                    branch_name="figures",
                    steps=[
                        AgentStep(
                            step_name="figures",
                            agent=analyst,
                            input={
                                "research": StepInput.from_artifact("research", "research"),
                                "limit": StepInput.literal_number(5),
                            },
                        )
                    ],
                ),
                ParallelBranch(
                    branch_name="summary",
                    steps=[
                        AgentStep(
                            step_name="summary",
                            agent=writer,
                            input={
                                "research": StepInput.from_artifact("research", "research"),
                                "strict": StepInput.literal_boolean(True),
                            },
                            retry=RetryPolicy.none(),
                        )
                    ],
                ),
            ],
            max_concurrency=2,
            min_successful=2,
        ),
        ChoiceStep(
            step_name="route",
            value=StepInput.from_step_output("research", "verdict"),
            cases=[
                ChoiceCase.when_string(
                    "publish",
                    [
                        AgentStep(
                            step_name="writing",
                            agent=writer,
                            input={
                                "summary": StepInput.from_artifact("summary", "summary"),
                                "topic": StepInput.from_workflow_input("topic"),
                            },
                        )
                    ],
                ),
                ChoiceCase.when_number(0, []),
                ChoiceCase.when_boolean(
                    False,
                    [
                        ApprovalStep(
                            step_name="override",
                            prompt="The research found nothing: publish anyway?",
                            on_timeout=ApprovalTimeoutAction.FAIL,
                        )
                    ],
                ),
            ],
            otherwise=[
                ApprovalStep(
                    step_name="triage",
                    prompt="The research has no verdict: go on?",
                    timeout=Duration.hours(4),
                    on_timeout=ApprovalTimeoutAction.APPROVE,
                    continue_on_rejection=True,
                )
            ],
        ),
        ApprovalStep(step_name="approval", prompt="Approve the report for publication.", timeout=Duration.days(2)),
        PublishStep(step_name="publish", artifact=StepInput.from_artifact("summary", "summary")),
    ],
)
# The definition as the controller reads it, checked from Python too.
problems = pipeline.validate()
assert problems == [], f"the pipeline is not valid: {problems}"
assert json.loads(pipeline.to_json())["name"] == "platform-pipeline"



@jsii.implements(IDispatchableAgent)
class DelegatingAgent:
    """A team's own dispatchable agent that hands the dispatch to a ContainerAgent: jsii calls
    bind_dispatch back in Python, which calls the library by the interface's parameter names."""

    def __init__(self, inner: ContainerAgent) -> None:
        self._inner = inner

    @property
    def agent_name(self) -> str:
        return self._inner.agent_name

    def bind_dispatch(self, scope: Construct, dispatcher: iam.IGrantable) -> AgentDispatch:
        return self._inner.bind_dispatch(scope=scope, dispatcher=dispatcher)


# An orchestrator with its own HTTP API, running the pipeline on the three container agents (the
# writer through a DelegatingAgent).
platform = DurableOrchestrator(
    stack,
    "Pipeline",
    workflow=pipeline,
    agents=[researcher, analyst, DelegatingAgent(writer)],
    controller_memory_mib=512,
    execution_timeout=Duration.days(7),
    state_retention=Duration.days(30),
    tracing=True,
    dashboard=True,
    alarms=OrchestratorAlarms(
        workflows_failed=AlarmConfig(threshold=2),
        step_duration=AlarmConfig(enabled=True, threshold=600000),
    ),
    alarm_actions=oncall,
)
operator = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())
platform.grant_start_workflow(operator)
platform.grant_read_workflows(operator)
platform.grant_approve(operator)


def agent_function(construct_id: str) -> lambda_.Function:
    return lambda_.Function(
        stack,
        construct_id,
        runtime=lambda_.Runtime.NODEJS_22_X,
        handler="index.handler",
        code=lambda_.Code.from_inline("exports.handler = async () => ({});"),
    )


@jsii.implements(IWorkflowAgent)
class ReportWriter:
    """A workflow agent named by a Python object: jsii calls back into Python for its name."""

    @property
    def agent_name(self) -> str:
        return "report-writer"


# An orchestrator on the SecureApi, running the reference workflow on agent targets: two Lambda
# functions and an ECS task. The writer is named by an object that implements IWorkflowAgent.
cluster = ecs.Cluster(stack, "AgentCluster", vpc=data.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
writer_task = ecs.FargateTaskDefinition(
    stack, "WriterTask", runtime_platform=ecs.RuntimePlatform(cpu_architecture=ecs.CpuArchitecture.ARM64)
)
writer_task.add_container("agent", image=ecs.ContainerImage.from_registry(AGENT_BASE))
research = DurableOrchestrator(
    stack,
    "Research",
    workflow=ReferenceWorkflows.research_report(
        researcher=WorkflowAgent.named("lookup"),
        analyst=WorkflowAgent.named("crunch"),
        writer=ReportWriter(),
        approval_timeout=Duration.hours(12),
    ),
    agents=[
        AgentTarget.lambda_function("lookup", agent_function("LookupFunction")),
        AgentTarget.lambda_function("crunch", agent_function("CrunchFunction")),
        AgentTarget.ecs_task("report-writer", cluster=cluster, task_definition=writer_task),
    ],
    api=api,
    api_base_path="/research",
    encryption_key=key,
    alarm_actions=oncall,
    status_canary=True,
)

# Another team's API and orchestrator, imported: grants and a health canary on them.
shared_api = SecureApi.from_secure_api_attributes(stack, "SharedApi", http_api_id="a1b2c3d4e5", url="https://api.example.com/")
ApiCanary.for_health_route(stack, "SharedApiHealthCanary", shared_api, alarm_actions=oncall)
shared_research = DurableOrchestrator.from_durable_orchestrator_attributes(
    stack,
    "SharedResearch",
    http_api_id="f6g7h8i9j0",
    workflow_name="research-report",
    api_base_path="/research",
)
shared_research.grant_start_workflow(operator)
shared_research.grant_read_workflows(operator)

# Failed workflows to a queue; a daily run.
failed_dlq = sqs.Queue(
    stack, "FailedWorkflowsDlq", enforce_ssl=True, encryption=sqs.QueueEncryption.KMS, encryption_master_key=key
)
failed = sqs.Queue(
    stack,
    "FailedWorkflows",
    enforce_ssl=True,
    encryption=sqs.QueueEncryption.KMS,
    encryption_master_key=key,
    dead_letter_queue=sqs.DeadLetterQueue(queue=failed_dlq, max_receive_count=5),
)
research.on_workflow_failed("FailedToQueue", target=targets.SqsQueue(failed, dead_letter_queue=failed_dlq))
research.add_schedule(
    "Daily",
    schedule=scheduler.ScheduleExpression.cron(hour="6", minute="0"),
    input=json.dumps({"topic": "Daily review", "parameters": {"depth": "brief"}}, separators=(",", ":")),
    description="A research report every morning",
)

# Canaries of our own, the dashboard, and every alarm to the on-call topic.
ApiCanary.for_workflow_status(stack, "PipelineStatusCanary", platform, schedule=Duration.minutes(10), alarm_actions=oncall)
ApiCanary(
    stack,
    "ItemsCanary",
    url=api.url,
    path="/items",
    expected_status=401,
    schedule=Duration.minutes(15),
    alarms=ApiCanaryAlarms(failed=AlarmConfig(threshold=2)),
    artifacts_encryption_key=key,
)
PlatformDashboard(stack, "Dashboard", dashboard_name="durable-agents-platform", period=Duration.minutes(5))
oncall.notify_alarms_in(stack)

app.synth()
