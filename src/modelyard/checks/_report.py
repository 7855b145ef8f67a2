"""A check report and its renderings: JUnit XML (each check a test case), Markdown (summary
table, failing checks first; fit for a pull-request comment) and JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from modelyard.domain.evaluations import CheckOutcome, CheckStatus, overall_status

_ORDER = {
    CheckStatus.ERROR: 0,
    CheckStatus.FAILED: 1,
    CheckStatus.SKIPPED: 2,
    CheckStatus.PASSED: 3,
}
_ICON = {
    CheckStatus.ERROR: "ERROR",
    CheckStatus.FAILED: "FAIL",
    CheckStatus.SKIPPED: "skip",
    CheckStatus.PASSED: "pass",
}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome of one ``yard check``: what was checked on which data, and every check."""

    subject: str  # models:/churn/4, or data:churn@6
    data_uri: str
    suite_digest: str
    outcomes: tuple[CheckOutcome, ...]
    compared_with: str | None = None
    duration_ms: int = 0
    evaluation_id: str | None = None  # set when stored on a model version

    @property
    def status(self) -> CheckStatus:
        return overall_status([o.status for o in self.outcomes])

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASSED

    def count(self, status: CheckStatus) -> int:
        return sum(o.status is status for o in self.outcomes)

    def ordered(self) -> list[CheckOutcome]:
        """Errors, then failures, then skipped, then passed; stable within each."""
        return sorted(self.outcomes, key=lambda o: _ORDER[o.status])

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "data": self.data_uri,
            "suite_digest": self.suite_digest,
            "status": self.status.value,
            "compared_with": self.compared_with,
            "duration_ms": self.duration_ms,
            "evaluation": self.evaluation_id,
            "checks": [
                {
                    "name": o.name,
                    "kind": o.kind,
                    "status": o.status.value,
                    "value": _finite(o.value),
                    "threshold": o.threshold,
                    "message": o.message,
                }
                for o in self.outcomes
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_junit(self) -> str:
        suite = ET.Element(
            "testsuite",
            {
                "name": f"yard check {self.subject}",
                "tests": str(len(self.outcomes)),
                "failures": str(self.count(CheckStatus.FAILED)),
                "errors": str(self.count(CheckStatus.ERROR)),
                "skipped": str(self.count(CheckStatus.SKIPPED)),
                "time": f"{self.duration_ms / 1000:.3f}",
            },
        )
        props = ET.SubElement(suite, "properties")
        for key, value in (
            ("data", self.data_uri),
            ("suite_digest", self.suite_digest),
            ("compared_with", self.compared_with or ""),
        ):
            ET.SubElement(props, "property", {"name": key, "value": value})
        for o in self.outcomes:
            case = ET.SubElement(
                suite, "testcase", {"classname": f"yard.{o.kind}", "name": o.name, "time": "0"}
            )
            text = _line(o)
            if o.status is CheckStatus.FAILED:
                ET.SubElement(case, "failure", {"message": text}).text = text
            elif o.status is CheckStatus.ERROR:
                ET.SubElement(case, "error", {"message": text}).text = text
            elif o.status is CheckStatus.SKIPPED:
                ET.SubElement(case, "skipped", {"message": text})
            else:
                ET.SubElement(case, "system-out").text = text
        suites = ET.Element("testsuites")
        suites.append(suite)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"

    def to_markdown(self) -> str:
        counts = ", ".join(
            f"{self.count(s)} {s.value.lower()}"
            for s in (
                CheckStatus.FAILED,
                CheckStatus.ERROR,
                CheckStatus.SKIPPED,
                CheckStatus.PASSED,
            )
            if self.count(s)
        )
        lines = [
            f"## yard check: {self.status.value} - {self.subject}",
            "",
            f"Data `{self.data_uri}`, suite `{self.suite_digest.removeprefix('blake3:')[:12]}`"
            + (f", compared with `{self.compared_with}`" if self.compared_with else "")
            + f": {counts or 'no checks'}.",
            "",
            "| status | check | value | threshold | details |",
            "| --- | --- | --- | --- | --- |",
        ]
        for o in self.ordered():
            value = "-" if o.value is None else f"{o.value:.4g}"
            lines.append(
                f"| {_ICON[o.status]} | {_cell(o.name)} | {value} | {_cell(o.threshold) or '-'} "
                f"| {_cell(o.message)} |"
            )
        return "\n".join(lines) + "\n"


def _line(o: CheckOutcome) -> str:
    value = "" if o.value is None else f"measured {o.value:.6g}; "
    expected = f"expected {o.threshold}; " if o.threshold else ""
    return f"{value}{expected}{o.message}".strip("; ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value
