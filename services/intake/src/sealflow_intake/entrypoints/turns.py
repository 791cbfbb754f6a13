"""The everyday turns of a matter over HTTP: the applicant revises a returned matter or withdraws it; an
assignee (or the administrator) transfers a task (转办); a person away registers a stand-in (absence
delegation). routing decides; intake validates and forwards."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.entrypoints.deps import Caller, Rt, ask
from sealflow_intake.service import turns
from sealflow_intake.service.inputs import RevisionIn, TransferIn, WithdrawIn

router = APIRouter(prefix="/v1")


class AbsenceIn(BaseModel):
    """A stand-in for a date range (China dates, inclusive): stages that open in it give them your tasks."""

    stand_in_id: str = Field(min_length=1, max_length=64)
    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=2000)
    person_id: str | None = Field(default=None, max_length=64)  # the administrator registering for someone


@router.post("/matters/{matter_id}/revisions", status_code=201)
async def revise(matter_id: str, body: RevisionIn, rt: Rt, person: Caller) -> dict[str, Any]:
    return await turns.revise(rt, person, matter_id, body)


@router.post("/matters/{matter_id}/withdraw")
async def withdraw(matter_id: str, rt: Rt, person: Caller, body: WithdrawIn | None = None) -> dict[str, Any]:
    return await turns.withdraw(rt, person, matter_id, body.reason if body else "")


@router.post("/matters/{matter_id}/transfers")
async def transfer(matter_id: str, body: TransferIn, rt: Rt, person: Caller) -> dict[str, Any]:
    return await turns.transfer(rt, person, matter_id, body)


@router.post("/absences", status_code=201)
async def register_absence(body: AbsenceIn, rt: Rt, person: Caller) -> dict[str, Any]:
    return await ask(rt, subjects.RPC_ABSENCE_REGISTER, m.RegisterAbsence(actor_id=person.id, **body.model_dump()))


@router.get("/absences")
async def list_absences(rt: Rt, person: Caller) -> dict[str, Any]:
    """Yours and those you stand in for (the administrator: everyone's)."""
    return await ask(rt, subjects.RPC_ABSENCE_LIST, m.ListAbsences(actor_id=person.id))


@router.get("/absences/stand-ins")
async def stand_in_candidates(
    rt: Rt, person: Caller, person_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None
) -> dict[str, Any]:
    """Who may stand in for you (the administrator: for `person_id`): everyone holding all your roles where you hold them."""
    return await ask(rt, subjects.RPC_ABSENCE_STAND_INS, m.StandInCandidates(actor_id=person.id, person_id=person_id))


@router.delete("/absences/{absence_id}")
async def cancel_absence(absence_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    """Stages that already opened keep their stand-in; stages opening from now on do not."""
    return await ask(rt, subjects.RPC_ABSENCE_CANCEL, m.CancelAbsence(actor_id=person.id, absence_id=absence_id))
