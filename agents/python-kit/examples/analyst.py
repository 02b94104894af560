#!/usr/bin/env python3
"""The analyst, written with the Python agent kit: reads the ``research`` artifact and writes the
``analysis`` artifact. Same prompts and outputs as the TypeScript analyst (agents/analyst)."""

import os
import sys

try:
    import cdk_durable_agents_kit as kit
except ImportError:  # run from the repository without installing the kit
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    import cdk_durable_agents_kit as kit

SYSTEM = """You are the analyst of a research team. You read the researcher's notes and work out
what they mean: the themes, how strong the evidence is, where it is thin or conflicting, the
risks, and what a report should recommend. Judge only from the notes; say so where they are
not enough. Write Markdown with exactly these sections, in this order, and no title:

## Summary
## Themes
## Strength of the evidence
## Risks and gaps
## Recommendations for the report
"""

#: Most characters of research put into the prompt.
MAX_RESEARCH_CHARS = 200_000


def build_prompt(task):
    """The prompt from ``research`` (the researcher's artifact, read by the kit)."""
    research = task.text("research", "the key of the researcher's 'research' artifact")
    return "\n".join([
        "Analyse the research notes below.",
        "",
        "--- research notes ---",
        kit.clip(research.strip(), MAX_RESEARCH_CHARS),
        "--- end of research notes ---",
    ])


def analyse(task):
    answer = task.complete(SYSTEM, build_prompt(task))
    task.write_artifact("analysis", answer.text)
    return kit.model_output(answer, answer.text)


handler = kit.lambda_handler(analyse, name="analyst")

if __name__ == "__main__":
    kit.run_agent(analyse, name="analyst")
