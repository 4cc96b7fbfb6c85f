"""Errors that keep their cause: one readable line for the console, the whole chain for logs.

A Spark failure reaches Python as a Py4J or PySpark exception whose first line is "An error
occurred while calling o123.save"; the useful part is the Java exception further down.
``root_cause`` walks Python's ``__cause__``/``__context__`` chain (and Dagster's serialized
error chain) and returns the innermost error's class and its meaningful message.
"""

from __future__ import annotations

import re


class PipelineError(RuntimeError):
    """A pipeline step failed; the message names the step, file or rule."""


# A Java exception line inside a Py4J/Spark message: "org.apache...SomeException: message".
_JAVA_EXCEPTION = re.compile(r"^\s*(?:Caused by: )?((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error))(?::\s*(.*))?$")
_NOISE = ("An error occurred while calling", "Traceback (most recent call last)", "py4j.protocol.")


def meaningful_line(message: str) -> str:
    """The line of an error message a user should read: the innermost Java exception with its
    message when the text carries a JVM stack trace, otherwise the first line that is not Py4J
    boilerplate."""
    lines = [line.rstrip() for line in (message or "").splitlines() if line.strip()]
    java = [m for m in (_JAVA_EXCEPTION.match(line) for line in lines) if m]
    if java:
        cls, text = java[-1].group(1), (java[-1].group(2) or "").strip()
        return f"{cls}: {text}" if text else cls
    for line in lines:
        if not any(line.strip().startswith(noise) for noise in _NOISE):
            return line.strip()
    return lines[0].strip() if lines else ""


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and every cause or context behind it, outermost first (no cycles)."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return chain


def root_cause(exc: BaseException) -> str:
    """``ClassName: message`` of the innermost error of a Python exception chain."""
    inner = exception_chain(exc)[-1]
    return f"{type(inner).__name__}: {meaningful_line(str(inner))}"


def serialized_root_cause(error) -> str:
    """The same for Dagster's ``SerializableErrorInfo`` (a run's step failure): its cause
    chain is walked to the innermost error, whose class and meaningful line are returned."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    cls = getattr(error, "cls_name", None) or "Error"
    return f"{cls}: {meaningful_line(error.message.split(':', 1)[-1] if error.message.startswith(cls) else error.message)}"
