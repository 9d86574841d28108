"""Named building blocks of a training run: one registry each for data sets, models,
losses and optimizers.

A registry maps a name (what ``chainrule train --optimizer NAME`` and
``TrainConfig(optimizer=NAME)`` take) to a spec object. Adding a data set, a model or an
optimizer is one ``REGISTRY.add(Spec(...))`` call; the command line's choices, its help
and the checkpoint loader read the registries, so nothing else changes.

>>> from chainrule.train.registry import Registry
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Colour:
...     name: str
...     rgb: tuple
...     help: str = ""
>>> colours = Registry("colour")
>>> colours.add(Colour("red", (255, 0, 0)))
>>> colours.names(), colours["red"].rgb
(('red',), (255, 0, 0))
>>> colours["blue"]
Traceback (most recent call last):
...
chainrule.train.registry.UnknownName: unknown colour 'blue' (choose from red)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from ..errors import CLIError

__all__ = ["Registry", "UnknownName"]


class UnknownName(CLIError, KeyError):
    """A name that no entry of the registry has (a ``KeyError`` and a one-line CLI error)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class _Named(Protocol):
    name: str
    help: str


T = TypeVar("T", bound=_Named)


class Registry(Generic[T]):
    """Entries of one kind, by name, in the order they were added."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, entry: T) -> None:
        """Register ``entry`` under ``entry.name``; a name can be taken only once."""
        name = entry.name
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} registry: an entry needs a non-empty name, got "
                             f"{name!r}")
        if name in self._entries:
            raise ValueError(f"{self.kind} registry: {name!r} is already registered")
        self._entries[name] = entry

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownName(f"unknown {self.kind} {name!r} (choose from "
                              f"{', '.join(self._entries)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"
