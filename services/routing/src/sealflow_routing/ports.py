"""What routing's handlers need from the world, as small typed ports. `bootstrap.py` wires the real ones
(MongoDB, the outbox relay, the wall clock); unit tests pass hand-written fakes through the same bootstrap."""

import abc
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sealflow_contracts.messages import Envelope

from sealflow_routing.domain.directory import Directory, Policy
from sealflow_routing.domain.forms import MatterType
from sealflow_routing.domain.matter import Effects, Matter, StandIn

T = TypeVar("T")

Clock = Callable[[], datetime]
"""Now, timezone-aware UTC."""

AfterCommit = Callable[[], None]
"""Called after a transaction that staged messages has committed: the outbox relay sends them now rather
than at its next poll (the messages are already safe in the outbox; this only makes them go sooner)."""


class MatterTransaction(abc.ABC):
    """routing's collections inside one transaction: everything written here commits together, or — when
    the work given to `RoutingStore.in_transaction` raises — none of it does."""

    @abc.abstractmethod
    async def claim_event(self, event_id: str) -> bool:
        """True the first time routing sees `event_id` (the claim commits or rolls back with the change)."""

    @abc.abstractmethod
    async def load_matter(self, matter_id: str) -> Matter | None: ...

    @abc.abstractmethod
    async def insert_matter(self, matter: Matter) -> None: ...

    @abc.abstractmethod
    async def replace_matter(self, matter: Matter, *, read_version: int) -> bool:
        """Store `matter` only if the stored one is still at `read_version`; False if someone changed it since."""

    @abc.abstractmethod
    async def append_trail(self, entries: list[dict[str, Any]]) -> None: ...

    @abc.abstractmethod
    async def stage(self, messages: list[Envelope]) -> None:
        """Put messages in the outbox: they are published only if this transaction commits."""


class RoutingStore(abc.ABC):
    """routing's matters, reference data (directory, policies, matter types, absences) and approval numbers."""

    @abc.abstractmethod
    async def in_transaction(self, work: Callable[[MatterTransaction], Awaitable[T]]) -> T:
        """Run `work` in one transaction: it commits when `work` returns and rolls back when it raises (the
        exception propagates). The real store also reruns `work` on the database's transient errors."""

    @abc.abstractmethod
    async def load_matter(self, matter_id: str) -> Matter | None: ...

    @abc.abstractmethod
    async def load_directory(self) -> Directory: ...

    @abc.abstractmethod
    async def load_policy(self, matter_type: str, version: int | None = None) -> Policy | None:
        """The newest policy for a matter type, or the exact version a matter was routed with."""

    @abc.abstractmethod
    async def load_matter_type(self, type_id: str, version: int | None = None) -> MatterType | None:
        """The newest version of a matter type, or the exact one a matter was submitted with."""

    @abc.abstractmethod
    async def stand_ins_on(self, day: date) -> dict[str, StandIn]:
        """Absences in force on `day` (the town's calendar), by absent person."""

    @abc.abstractmethod
    async def reserve_approval_number(self, matter_id: str, prefix: str, year: int) -> str:
        """The matter's approval number, reserved once and kept; never inside a transaction (see the adapter)."""

    @abc.abstractmethod
    async def stalled_matter_ids(self, now: datetime) -> list[str]:
        """Matters whose route was approved and whose completion check is due."""


class AbsenceBook(abc.ABC):
    """Registered absences (who stands in for whom, from when to when), as plain documents."""

    @abc.abstractmethod
    async def find(self, involving: str | None, limit: int = 200) -> list[dict[str, Any]]:
        """Newest first; with `involving`, only those where that person is away or stands in."""

    @abc.abstractmethod
    async def get(self, absence_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def add(self, absence: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    async def cancel(self, absence_id: str, at: datetime) -> None:
        """Mark it cancelled at `at` unless it already is."""


class ChangeMatter(Protocol):
    """`handlers.change_matter` with its ports bound: the one way an existing matter changes."""

    def __call__(
        self,
        matter_id: str,
        apply: Callable[[Matter], Effects],
        *,
        event_id: str | None = None,
        stand_ins: dict[str, StandIn] | None = None,
    ) -> Awaitable[Matter]: ...
