#!/usr/bin/env python3
"""The writer, written with the Python agent kit: reads the ``analysis`` artifact and the
``topic``, writes the ``report`` artifact. Same prompts and outputs as the TypeScript writer
(agents/writer)."""

import os
import re
import sys

try:
    import cdk_durable_agents_kit as kit
except ImportError:  # run from the repository without installing the kit
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    import cdk_durable_agents_kit as kit

SYSTEM = """You are the writer of a research team. From the analyst's findings you write the final
report for a reader who has not seen the research: clear, well organised, plain words, no
claims the analysis does not support. Write Markdown with exactly these sections, in this
order; do not write a title (it is added for you):

## Summary
## Background
## Findings
## Recommendations
## Conclusion
"""

MAX_ANALYSIS_CHARS = 200_000


def build_prompt(task):
    """The prompt from ``topic`` and ``analysis`` (the analyst's artifact, read by the kit)."""
    topic = task.text("topic", "the topic of the report (a string)").strip()
    analysis = task.text("analysis", "the key of the analyst's 'analysis' artifact")
    return "\n".join([
        "Report topic: %s" % topic,
        "",
        "Write the report from the analysis below.",
        "",
        "--- analysis ---",
        kit.clip(analysis.strip(), MAX_ANALYSIS_CHARS),
        "--- end of analysis ---",
    ])


def render(answer, task):
    """The report: a title from the topic (unless the model wrote one), a line saying who wrote it
    and with which model, the body, and the offline notice again at the end when no model was
    called, so nobody mistakes an offline outline for a real report."""
    topic = re.sub(r"\s+", " ", task.text("topic", "the topic of the report (a string)").strip())
    body = answer.text.strip()
    title = "# %s" % topic
    own = re.match(r"#\s+\S[^\n]*", body)
    if own:
        title = own.group(0).strip()
        body = body[own.end():].strip()
    parts = [
        title,
        "",
        "*Written by the writer agent with %s (%s) for workflow %s.*" % (answer.provider, answer.model, task.workflow_id),
        "",
        body,
    ]
    if kit.OFFLINE_NOTICE in answer.text:
        parts.extend(["", "---", "", "*%s This report is an outline of its inputs, not model-written analysis.*" % kit.OFFLINE_NOTICE])
    return "\n".join(parts) + "\n"


def write(task):
    answer = task.complete(SYSTEM, build_prompt(task), max_tokens=8192)
    report = render(answer, task)
    task.write_artifact("report", report)
    return kit.model_output(answer, report)


handler = kit.lambda_handler(write, name="writer")

if __name__ == "__main__":
    kit.run_agent(write, name="writer")
