"""Running the ``mlpkit`` command in the tests: a command that must succeed, or fail with one line."""

from __future__ import annotations

import signal

from click.testing import CliRunner, Result

from mlpkit.cli._app import cli


def run(*args: object, ok: bool = True) -> Result:
    """Invoke ``mlpkit ARGS``; with ``ok`` it must exit with status 0."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


def error(*args: object) -> str:
    """Run a command that must fail with one line on stderr and exit status 2; return that line."""
    result = run(*args, ok=False)
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlpkit: error: "), result.stderr
    assert "Traceback" not in result.stderr and not result.stdout
    return lines[0]


def ctrl_c_as_typed() -> None:
    """``preexec_fn`` of an ``mlpkit`` subprocess that receives SIGINT: in the child, before Python starts, SIGINT
    takes its default action as in a terminal (a shell's background job, where the tests may run, inherits SIGINT
    ignored, which Python then keeps, and the Ctrl-C of the test would never arrive)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
