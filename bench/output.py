"""Every tool the benchmark runs leaves its full output in bench/out/."""

import subprocess

from bench import OUT_DIR


def run_keeping_output(command: list[str], name: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `command` to the end and keep its stdout and stderr in bench/out/<name>.txt."""
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    (OUT_DIR / f"{name}.txt").write_text(done.stdout + done.stderr)
    return done
