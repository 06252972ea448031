"""In-process progress reporting, so the CLI can show a progress bar without passing callables to Prefect."""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[str, float], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Receive (step, fraction) updates; returns a function that unsubscribes."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def report(step: str, fraction: float) -> None:
    """Tell listeners how far the current build is (step names carry no personal data)."""
    for listener in list(_listeners):
        listener(step, fraction)
