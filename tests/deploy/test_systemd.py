"""The systemd units: what they must say, and what systemd itself says of them."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))


def service_section(unit: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(unit)
    return dict(parser["Service"])


def test_every_process_has_a_unit():
    assert {u.stem for u in UNITS} == {
        "kloros-web",
        "kloros-worker",
        "kloros-watcher",
        "kloros-flower",
        "kloros-beat",
    }


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_units_are_limited_restarted_and_unprivileged(unit):
    service = service_section(unit)
    for key in ("MemoryHigh", "MemoryMax", "CPUQuota", "EnvironmentFile", "ExecStart"):
        assert service.get(key), f"{unit.name} has no {key}"
    assert service["Restart"] == "always"
    assert service["User"] == "kloros" and service["Group"] == "kloros"
    high, top = (int(service[k].rstrip("M")) for k in ("MemoryHigh", "MemoryMax"))
    assert high < top, f"{unit.name}: MemoryHigh must throttle before MemoryMax kills"


def stand_in_venv(tmp_path: Path) -> Path:
    """A bin folder with an executable for each program the units start from /opt/kloros/.venv/bin:
    verify checks that they exist, and this checkout's venv may live anywhere, or nowhere."""
    bin_dir = tmp_path / "venv-bin"
    bin_dir.mkdir()
    for unit in UNITS:
        for program in re.findall(r"/opt/kloros/\.venv/bin/([\w.-]+)", unit.read_text()):
            stand_in = bin_dir / program
            stand_in.write_text("#!/bin/sh\nexit 0\n")
            stand_in.chmod(0o755)
    return bin_dir


def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify` on the units, pointed at this checkout instead of /opt/kloros."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is not installed (Debian package: systemd)"
    bin_dir = stand_in_venv(tmp_path)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS:
        text = (
            unit.read_text().replace("/opt/kloros/.venv/bin", str(bin_dir)).replace("/opt/kloros", str(REPO))
        )
        (units / unit.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in units.glob("*.service"))],
        capture_output=True,
        text=True,
    )
    # systemd only warns (exit 0) about an invalid value and ignores it: treat any output as a failure
    assert result.returncode == 0 and not result.stderr.strip() and not result.stdout.strip(), result.stderr


def test_the_environment_example_names_only_documented_settings():
    documented = (REPO / "docs" / "CONFIGURATION.md").read_text()
    example = (REPO / "deploy" / "systemd" / "kloros.env.example").read_text().splitlines()
    names = [line.split("=", 1)[0] for line in example if line and not line.startswith("#")]
    undocumented = [n for n in names if f"`{n}`" not in documented and not n.startswith("FLOWER_")]
    assert not undocumented, undocumented
