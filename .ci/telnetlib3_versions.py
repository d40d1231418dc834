"""The telnetlib3 hand-over, tested with every release in ``TELNETLIB3_TESTED``.

``make test`` runs this before pytest. For each tested release other than the one
installed in .venv (which the main test run covers), it builds a small venv once
(``.venv/telnetlib3/VERSION``: telnetlib3 at that release, pytest, pytest-asyncio,
pytest-timeout; kept until ``make clean``) and runs ``tests/channels/test_telnet_handover.py``
in it. Each step is bounded in time; the summary names every release that failed, and
the exit status is 1 if any did.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from videotex.channels.telnet_negotiation import TELNETLIB3_TESTED  # noqa: E402

CACHE = ROOT / ".venv" / "telnetlib3"
TEST = "tests/channels/test_telnet_handover.py"
TOOLS = ("pytest>=8", "pytest-asyncio>=0.23", "pytest-timeout>=2.2")
BUILD_SECONDS = 300
TEST_SECONDS = 120


def venv_for(version: str) -> Path:
    """The cached venv with telnetlib3 at ``version`` (built on first use)."""
    home = CACHE / version
    stamp = home / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True,
                       timeout=BUILD_SECONDS)
        pip = subprocess.run([str(home / "bin" / "pip"), "install", "--quiet",
                              "--disable-pip-version-check", f"telnetlib3=={version}", *TOOLS],
                             capture_output=True, text=True, timeout=BUILD_SECONDS, check=False)
        if pip.returncode != 0:
            print(pip.stdout[-2000:], pip.stderr[-4000:], sep="\n", file=sys.stderr)
            raise subprocess.CalledProcessError(pip.returncode, pip.args)
        stamp.touch()
    return home


def run(version: str) -> str | None:
    """None if the hand-over tests pass with ``version``, else why not."""
    try:
        home = venv_for(version)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        return f"could not build its venv: {e}"
    try:
        done = subprocess.run(
            [str(home / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "--noconftest", "--timeout=60", TEST],
            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=TEST_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return f"the tests took over {TEST_SECONDS} s"
    last = done.stdout.strip().splitlines()[-1:] or ["no output"]
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
        return last[0]
    return None


def main() -> int:
    installed = importlib.metadata.version("telnetlib3")
    failed: dict[str, str] = {}
    for version in TELNETLIB3_TESTED:
        if version == installed:
            print(f"telnetlib3 {version}: installed in .venv, tested by the main run")
            continue
        start = time.monotonic()
        why = run(version)
        took = f"{time.monotonic() - start:.1f} s"
        if why is None:
            print(f"telnetlib3 {version}: hand-over tests passed ({took})")
        else:
            failed[version] = why
            print(f"telnetlib3 {version}: FAILED ({took}): {why}")
    if failed:
        print(f"telnetlib3 hand-over FAILED with {', '.join(failed)} "
              f"(tested: {', '.join(TELNETLIB3_TESTED)})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
