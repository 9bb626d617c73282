"""The trust boundary as a test: the public collector imports no decryption, roster, register,
analysis, mailing or office code. A fresh interpreter imports the collector's modules and the
test reads what got loaded."""

from __future__ import annotations

import json
import subprocess
import sys

COLLECTOR_MODULES = [
    "survey.web.collector.app",
    "survey.web.serve",
    "survey.ingest.intake",
    "survey.ingest.bundles",
    "survey.ingest.provision",
]
FORBIDDEN = [
    "survey.decrypt",  # opening the roster, the study private key, sealed answers
    "survey.roster",
    "survey.register.reader",
    "survey.register.synth",
    "survey.sampling.draw",
    "survey.sampling.service",
    "survey.analysis",
    "survey.web.office",
    "mailing",
]
ALLOWED_INGEST = {"survey.ingest", *(m for m in COLLECTOR_MODULES if m.startswith("survey.ingest"))}


def loaded_modules() -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for m in {COLLECTOR_MODULES!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules: list[str] = json.loads(out.stdout)
    return modules


def test_the_collector_loads_nothing_from_the_office_side() -> None:
    modules = loaded_modules()
    assert "survey.web.collector.app" in modules  # the check ran
    bad = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []
    office_ingest = [
        m for m in modules if m.startswith("survey.ingest") and m not in ALLOWED_INGEST
    ]
    assert office_ingest == []


def test_the_check_would_catch_a_forbidden_import() -> None:
    code = "import survey.roster, sys; print('survey.decrypt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"  # roster needs decryption: the test above would fail
