"""How the ``mlpkit`` command stops on a signal: SIGTERM takes the path of Ctrl-C.

``kill``, systemd and ``docker stop`` send SIGTERM, whose default action ends the process on the spot and
leaves nothing behind. :func:`install` makes it raise :class:`Terminated`, a :class:`KeyboardInterrupt`,
where Python raises KeyboardInterrupt for Ctrl-C (SIGINT), so every place that handles Ctrl-C (the
checkpoint of ``mlpkit train``, the stopped workers of ``mlpkit tune``, the one-line exit of every command)
handles SIGTERM too. The exit status says which signal came, as the shell reports a process killed by it:
128 + the signal's number, 130 for SIGINT and 143 for SIGTERM.

A stop is also remembered when it arrives: C code may swallow the exception raised in its place (seen with
SIGTERM arriving while a Cython extension of SciPy was being imported: the import went on and so did the
run), or Python may (raised in a weakref callback or ``__del__``, it is "ignored" with a traceback on
stderr, which :func:`install` silences for stops only). :func:`raise_lost` raises such a lost stop again;
the command calls it where it goes on to new work (after its imports, before training, after every
mini-batch and every finished trial).

Standard library only: :func:`mlpkit.cli.main` installs the handlers before it imports the rest of the
command.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = ["INTERRUPTED", "TERMINATED", "Terminated", "deferred", "install", "raise_lost", "stop_status",
           "stop_word"]

INTERRUPTED = 128 + 2  # SIGINT (Ctrl-C): 130, as the shell reports it
TERMINATED = 128 + 15  # SIGTERM (kill, systemd, docker stop): 143
#: the signals that stop a run cleanly (SIGTERM does not exist on every platform)
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: raised where Ctrl-C raises KeyboardInterrupt, and handled the same way."""


#: the signal number of a stop that arrived and has not been raised by :func:`raise_lost` yet
_arrived: list[int] = []


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    """The handler of SIGINT and SIGTERM: remember the stop, then raise it (KeyboardInterrupt or Terminated)."""
    _arrived[:] = [signum]
    raise _exception_for(signum)


def install() -> None:
    """Make SIGTERM raise :class:`Terminated` and SIGINT KeyboardInterrupt in the main thread, both remembered for
    :func:`raise_lost`. A signal that is ignored (as ``nohup``-like launchers and shells' background jobs arrange)
    or already has a handler of its own is left as it is, as Python keeps an ignored SIGINT. A stop that Python
    can only report as "ignored" (raised in a weakref callback or ``__del__``) prints nothing:
    :func:`raise_lost` raises it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if not isinstance(sys.unraisablehook, _QuietStops):
        sys.unraisablehook = _QuietStops(sys.unraisablehook)
    for number, default in ((getattr(signal, "SIGINT", None), signal.default_int_handler),
                            (getattr(signal, "SIGTERM", None), signal.SIG_DFL)):
        if number is not None and signal.getsignal(number) == default:
            signal.signal(number, _raise_stop)


class _QuietStops:
    """A ``sys.unraisablehook`` that says nothing of a stop (the handler remembered it) and passes anything
    else to the hook it replaced."""

    def __init__(self, previous: Callable[[Any], object]) -> None:
        self.previous = previous

    def __call__(self, unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.previous(unraisable)


def raise_lost() -> None:
    """Raise the stop that arrived since the last call, if any. Where the exception raised by the handler reached
    a handler of the command, the command has ended and never gets here; so a stop found here was swallowed on
    its way (by C code) and is raised again."""
    if _arrived:
        signum = _arrived.pop()
        raise _exception_for(signum)


def _stopped_by(exc: BaseException | None) -> BaseException | None:
    """The KeyboardInterrupt (or Terminated) behind ``exc``, following the chain (click wraps it in Abort)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def stop_status(exc: BaseException | None) -> int:
    """The exit status of a command stopped by ``exc``: 143 after SIGTERM, 130 after Ctrl-C."""
    return TERMINATED if isinstance(_stopped_by(exc), Terminated) else INTERRUPTED


def stop_word(exc: BaseException | None) -> str:
    """``terminated`` (SIGTERM) or ``interrupted`` (Ctrl-C), for the one line that says so."""
    return "terminated" if isinstance(_stopped_by(exc), Terminated) else "interrupted"


def _exception_for(signum: int) -> KeyboardInterrupt:
    return Terminated(f"signal {signum}") if signum == getattr(signal, "SIGTERM", None) else KeyboardInterrupt()


@contextlib.contextmanager
def deferred(*, drop: bool = False) -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the block runs (a file being written is not cut short, and the one-line
    message is not doubled by a second Ctrl-C); afterwards raise the stop that came meanwhile, or forget it
    with ``drop`` (the block is already the way out). Outside the main thread signals are not delivered here
    anyway, and the block just runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {}
    for number in STOP_SIGNALS:
        if signal.getsignal(number) != signal.SIG_IGN:  # an ignored signal stays ignored
            previous[number] = signal.signal(number, hold)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received and not drop:
        raise _exception_for(received[0])
