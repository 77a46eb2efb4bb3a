"""The state machine's failure told as ``solvent check`` tells a finding.

``solvent.properties.machine`` sits on a floor below the reports, so it cannot import them: the
public ``solvent.machine`` hands this teller in. The story is saved to the findings folder (when
one is given) and ends with the command that replays it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from solvent.properties import findings
from solvent.properties.story import Story
from solvent.reports.text import story as story_text
from solvent.rules.book import Book
from solvent.rules.engine import Step
from solvent.rules.policy import Policy
from solvent.verdicts.check import PolicyReport, Violation


def tell(policy: Policy, start: Book, steps: Sequence[Step], broken: Sequence[str], findings_dir: Path | None) -> str:
    """The story of a failing run, as the text report tells a finding, ending with the command
    that replays it (the story saved for ``broken[0]`` under ``findings_dir``)."""
    story = Story(start, tuple(s.event for s in steps))
    index = len(steps) - 1
    violation = Violation(broken[0], "state machine", index, story, steps[-1], "machine")
    if findings_dir is not None:
        finding = findings.Finding(policy, broken[0], story, index, "machine")
        findings.save(finding, findings.database_path(findings_dir, policy, broken[0]))
    report = PolicyReport(policy, policy.name, (), (), findings_dir)
    text = story_text(violation, list(broken), report)
    if findings_dir is None:  # nothing saved to replay: the story itself, as Python
        lines = text.splitlines()
        text = "\n".join(lines[:-1] + [f"  the story (not saved), as Python: {story!r}"])
    return text


__all__ = ["tell"]
