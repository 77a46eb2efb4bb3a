"""Reports that show themselves in Jupyter: what ``solvent.check`` and ``solvent.prove`` return.

:class:`Report` *is* the :class:`~solvent.verdicts.check.PolicyReport` every front end builds
(same fields, same ``failed``, same JSON), with the rich display IPython looks for: the HTML
report's sections as a fragment whose style is scoped to it (``_repr_html_``), the Markdown
report (``_repr_markdown_``) and a one-line ``repr``. :class:`Proof` is z3's
:class:`~solvent.solver.verdicts.ProofResult`, shown as ``solvent prove`` prints it.
"""

from __future__ import annotations

import attrs

from solvent.rules.contract import LINEAR, Contract
from solvent.solver.verdicts import ProofResult
from solvent.verdicts.check import PolicyReport


@attrs.frozen(repr=False)
class Report(PolicyReport):
    """A policy's report, displayed in a notebook as the HTML report (fragment) or Markdown."""

    @classmethod
    def of(cls, report: PolicyReport) -> Report:
        return cls(**{f.name: getattr(report, f.name) for f in attrs.fields(PolicyReport)})

    def _repr_html_(self) -> str:
        from solvent.reports import html_report

        return html_report.fragment([self])

    def _repr_markdown_(self) -> str:
        from solvent.reports import markdown

        return markdown.render([self])

    def __repr__(self) -> str:
        from solvent.reports.story import summary_line

        state = "FAILS" if self.failed else "passes"
        return f"<solvent report: {self.policy.name} {state}: {summary_line(self)}>"

    def text(self, width: int = 120) -> str:
        """The text report, as ``solvent check`` prints it."""
        from solvent.reports import text

        return text.render(self, width)


@attrs.frozen(repr=False)
class Proof(ProofResult):
    """z3's answer on one claim, displayed as ``solvent prove`` prints it (amounts and prices of
    a replayed story in the venue's terms: ``contract``)."""

    contract: Contract = LINEAR

    @classmethod
    def of(cls, result: ProofResult, contract: Contract = LINEAR) -> Proof:
        return cls(**{f.name: getattr(result, f.name) for f in attrs.fields(ProofResult)}, contract=contract)

    def text(self, verbose: bool = False) -> str:
        from solvent.reports.proof_text import render

        return render(self, verbose=verbose, contract=self.contract)

    def _repr_markdown_(self) -> str:
        return "```text\n" + self.text() + "\n```\n"

    def __repr__(self) -> str:
        return f"<solvent proof: {self.invariant} on {self.policy}: {self.verdict.value} ({self.scope.text})>"


__all__ = ["Proof", "Report"]
