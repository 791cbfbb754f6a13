"""routing's composition root, the only place that wires things: each handler is bound to exactly the ports
it uses. The defaults are the real adapters over the process's `Runtime` (MongoDB, the outbox relay, the
wall clock); a unit test passes fakes for the ports instead and gets the same handlers."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from pydantic import BaseModel
from sealflow_contracts import messages as m
from sealflow_runtime.service import Runtime

from sealflow_routing import absences, admin, dispositions, handlers, reconciler
from sealflow_routing.adapters.mongo_store import MongoAbsenceBook, MongoRoutingStore
from sealflow_routing.config import RoutingSettings
from sealflow_routing.ports import AbsenceBook, AfterCommit, ChangeMatter, Clock, RoutingStore


@dataclass(frozen=True)
class Routing:
    """routing's handlers with their ports bound: an entrypoint calls each with the message alone."""

    settings: RoutingSettings
    store: RoutingStore
    change_matter: ChangeMatter
    submit_matter: Callable[[m.SubmitMatter], Awaitable[dict]]
    decide: Callable[[m.Decide], Awaitable[dict]]
    revise: Callable[[m.ReviseMatter], Awaitable[dict]]
    withdraw: Callable[[m.WithdrawMatter], Awaitable[dict]]
    transfer: Callable[[m.TransferTask], Awaitable[dict]]
    whois: Callable[[m.WhoIs], Awaitable[dict]]
    alert_disposition: Callable[[m.AlertDisposition], Awaitable[dict]]
    on_signature_applied: Callable[[m.SignatureApplied], Awaitable[None]]
    on_seal_applied: Callable[[m.SealApplied], Awaitable[None]]
    on_seal_refused: Callable[[m.SealRefused], Awaitable[None]]
    on_approval_registered: Callable[[m.ApprovalRegistered], Awaitable[None]]
    on_deadline_set: Callable[[m.DeadlineSet], Awaitable[None]]
    on_sla_event: Callable[[m.ReminderDue | m.StageOverdue | m.EscalationRaised | m.UrgeIssued], Awaitable[None]]
    reconcile_once: Callable[[], Awaitable[int]]
    run_reconciler: Callable[[], Awaitable[None]]
    # Absences and the administrator's requests, each by its request type; the entrypoint subscribes each on
    # its subject. The administrator's still speak MongoDB sessions (admin.AdminPorts): wired only with a runtime.
    absences: dict[type[BaseModel], Callable[[Any], Awaitable[Any]]]
    administration: dict[type[BaseModel], Callable[[Any], Awaitable[Any]]]


def bootstrap(
    settings: RoutingSettings,
    *,
    runtime: Runtime | None = None,
    store: RoutingStore | None = None,
    absence_book: AbsenceBook | None = None,
    clock: Clock = m.utcnow,
    after_commit: AfterCommit | None = None,
    log: Any = None,
) -> Routing:
    """Wire routing. With `runtime`, every port not given is the real one over it; without, `store` is required
    (and the administrator's requests, which need MongoDB itself, are left out)."""
    if runtime is not None:
        store = store or MongoRoutingStore(runtime.client, runtime.db)
        absence_book = absence_book or MongoAbsenceBook(runtime.db)
        after_commit = after_commit or runtime.relay.wake
        log = log or runtime.log
    if store is None or absence_book is None:
        raise ValueError("bootstrap needs a runtime, or a store and an absence book")
    after_commit = after_commit or (lambda: None)
    log = log or structlog.get_logger("routing")

    change: ChangeMatter = partial(
        handlers.change_matter,
        store=store,
        clock=clock,
        after_commit=after_commit,
        reconcile_after=timedelta(seconds=settings.reconcile_after_seconds),
    )
    administration: dict[type[BaseModel], Callable[[Any], Awaitable[Any]]] = {}
    if runtime is not None:
        admin_ports = admin.AdminPorts(runtime.client, runtime.db, after_commit)
        administration = {model: partial(handler, ports=admin_ports) for model, handler in admin.HANDLERS.items()}
        administration[m.AdminRequest] = partial(admin.handle_legacy, ports=admin_ports)
    return Routing(
        settings=settings,
        store=store,
        change_matter=change,
        submit_matter=partial(handlers.submit_matter, store=store, clock=clock, after_commit=after_commit),
        decide=partial(handlers.decide, store=store, change=change, clock=clock),
        revise=partial(handlers.revise, store=store, change=change, clock=clock),
        withdraw=partial(handlers.withdraw, change=change, clock=clock),
        transfer=partial(handlers.transfer, store=store, change=change, clock=clock),
        whois=partial(handlers.whois, store=store),
        alert_disposition=partial(dispositions.record, store=store, change=change),
        on_signature_applied=partial(handlers.on_signature_applied, change=change),
        on_seal_applied=partial(handlers.on_seal_applied, change=change),
        on_seal_refused=partial(handlers.on_seal_refused, change=change),
        on_approval_registered=partial(handlers.on_approval_registered, change=change),
        on_deadline_set=partial(handlers.on_deadline_set, change=change),
        on_sla_event=partial(handlers.on_sla_event, change=change),
        reconcile_once=partial(reconciler.reconcile_once, store=store, change=change, settings=settings, log=log),
        run_reconciler=partial(reconciler.run_forever, store=store, change=change, settings=settings, log=log),
        absences={
            m.RegisterAbsence: partial(absences.register, store=store, absences=absence_book, clock=clock),
            m.ListAbsences: partial(absences.list_absences, store=store, absences=absence_book),
            m.CancelAbsence: partial(absences.cancel, store=store, absences=absence_book, clock=clock),
            m.StandInCandidates: partial(absences.candidates, store=store),
            m.AbsenceRequest: partial(absences.handle_legacy, store=store, absences=absence_book, clock=clock),
        },
        administration=administration,
    )
