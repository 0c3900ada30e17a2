"""The streams a process's commands read lately, kept decoded, so that the next command on a stream reads only
what was appended to it since (a course's stream grows with every enrolment, attendance and completion)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry

DEFAULT_EVENTS_KEPT = 20_000  # about 20 MB: a decoded event of a course holds about 1 KB


@dataclass(frozen=True, slots=True)
class KnownStream:
    """A stream as a command read it: its tenant, its events (upcast, in order) and the id of the last one."""

    tenant: str
    last_event_id: str
    events: tuple[DomainEvent, ...]

    @property
    def version(self) -> int:
        return len(self.events)

    def followed_by(self, newer: list[Envelope], registry: EventRegistry) -> KnownStream | None:
        """This stream with the events read from its last version on, or None when the stream in the database no
        longer begins as this one (its last event is not the first one read: a transaction that appended it rolled
        back, or the database was replaced)."""
        if not newer or newer[0].id != self.last_event_id:
            return None
        if len(newer) == 1:
            return self
        appended = tuple(envelope.event(registry) for envelope in newer[1:])
        return KnownStream(self.tenant, newer[-1].id, self.events + appended)


def known_stream(envelopes: list[Envelope], registry: EventRegistry) -> KnownStream:
    return KnownStream(envelopes[0].tenant, envelopes[-1].id, tuple(e.event(registry) for e in envelopes))


class StreamHistories:
    """The most recently read streams, holding at most `events` events together (a stream alone longer than that
    is not kept); events are immutable, so commands share them.

    The bound is in events, not streams: what a process's memory holds is the events, and a course's stream is a
    few events when scheduled and hundreds at its end."""

    def __init__(self, events: int = DEFAULT_EVENTS_KEPT) -> None:
        self.events = events
        self._known: OrderedDict[str, KnownStream] = OrderedDict()
        self._held = 0  # events of every kept stream

    def __len__(self) -> int:
        return len(self._known)

    @property
    def held(self) -> int:
        """The events kept, every stream together."""
        return self._held

    def get(self, stream_id: str) -> KnownStream | None:
        known = self._known.get(stream_id)
        if known is not None:
            self._known.move_to_end(stream_id)
        return known

    def forget(self, stream_id: str) -> None:
        """The kept stream is not the database's any more (see `KnownStream.followed_by`)."""
        known = self._known.pop(stream_id, None)
        if known is not None:
            self._held -= known.version

    def keep(self, stream_id: str, known: KnownStream) -> None:
        """Keep `known` unless a longer read of the stream is kept already (two commands read it at once), then drop
        the least recently read streams until the events kept fit."""
        kept = self._known.get(stream_id)
        if kept is None or kept.version <= known.version:
            self._held += known.version - (kept.version if kept is not None else 0)
            self._known[stream_id] = known
            self._known.move_to_end(stream_id)
        while self._held > self.events:
            _, dropped = self._known.popitem(last=False)
            self._held -= dropped.version
