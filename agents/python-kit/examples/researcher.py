#!/usr/bin/env python3
"""The researcher, written with the Python agent kit: gathers what is known about the workflow's
``topic`` (tuned by ``parameters``) and writes the ``research`` artifact. Same prompts and
outputs as the TypeScript researcher (agents/researcher)."""

import json
import os
import sys

try:
    import cdk_durable_agents_kit as kit
except ImportError:  # run from the repository without installing the kit
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    import cdk_durable_agents_kit as kit

#: Depths a workflow may ask for in ``parameters.depth``: most tokens, and guidance for the model.
DEPTHS = {
    "brief": (1500, "Keep it short: the five most important findings."),
    "standard": (4096, "Cover the main findings with enough detail to analyse them."),
    "comprehensive": (8192, "Be thorough: cover every significant angle, with evidence for each finding."),
}

SYSTEM = """You are the researcher of a research team. You gather what is known about a topic so
that an analyst can work from your notes. Be factual; say how certain each finding is; name
the kind of source a finding rests on; never invent citations. Write Markdown with exactly
these sections, in this order, and no title:

## Summary
## Key findings
## Evidence and sources
## Open questions
"""

MAX_TOPIC_CHARS = 2000


def _json(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def build_prompt(task):
    """The prompt from ``topic`` (required) and ``parameters`` (optional object: ``depth``, ``focus``, ...).
    Returns the prompt and the most tokens for the depth asked for."""
    topic = task.text("topic", "the topic to research (a string)").strip()
    if len(topic) > MAX_TOPIC_CHARS:
        raise kit.InputError("input 'topic': at most %d characters, got %d" % (MAX_TOPIC_CHARS, len(topic)))
    parameters = task.input.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        got = "an array" if isinstance(parameters, list) else {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(parameters), "object")
        raise kit.InputError("input 'parameters': expected an object such as {\"depth\": \"comprehensive\"} or nothing, got %s" % got)
    params = parameters or {}
    depth = params.get("depth") if isinstance(params.get("depth"), str) and params.get("depth") in DEPTHS else "standard"
    tokens, guidance = DEPTHS[depth]
    lines = ["Topic: %s" % topic, "Depth: %s. %s" % (depth, guidance)]
    others = [(k, v) for k, v in params.items() if k != "depth"]
    if others:
        lines.append("Further parameters from the requester:")
        lines.extend("- %s: %s" % (k, v if isinstance(v, str) else _json(v)) for k, v in others)
    lines.extend(["", "Research this topic and write your notes."])
    return "\n".join(lines), tokens


def research(task):
    prompt, tokens = build_prompt(task)
    answer = task.complete(SYSTEM, prompt, max_tokens=tokens)
    task.write_artifact("research", answer.text)
    return kit.model_output(answer, answer.text)


handler = kit.lambda_handler(research, name="researcher")

if __name__ == "__main__":
    kit.run_agent(research, name="researcher")
