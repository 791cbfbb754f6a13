"""routing's side of "no matter left behind": what was asked of signing is remembered until confirmed, a
stalled approved matter gets exactly those requests again, and an act announced twice is applied once."""

from datetime import timedelta

import pytest
from sealflow_contracts import messages as m
from sealflow_routing.adapters.store import pilot_data
from sealflow_routing.domain import matter as wf
from sealflow_routing.domain.directory import Directory

from tests.unit.test_routing_domain import NOW, approve, seed_matter


@pytest.fixture
def directory() -> Directory:
    return Directory.model_validate(pilot_data())


SIGNERS = [
    ("jiulian-director", 1), ("jiulian-supervisor", 1), ("jiulian-secretary", 2),
    ("yinong-cadre-jiulian", 3), ("yinong-leader-a", 4), ("yinong-deputy-services", 5),
]  # fmt: skip


def approved_route(directory: Directory) -> wf.Matter:
    """Every decision made, as routing's handler does it: requests tracked, the approval asked for."""
    matter, _ = seed_matter(directory)
    for person, stage in SIGNERS:
        effects = approve(matter, person, stage)
        if effects.route_approved:
            wf.register_route_approval(matter, "YN-2026-000001", NOW, effects)
            matter.stalled_check_at = NOW + timedelta(minutes=2)
        wf.track_requests(matter, effects.messages)
    return matter


def signature_applied(request: dict) -> m.SignatureApplied:
    body = request["body"]
    return m.SignatureApplied(
        matter_id=body["matter_id"],
        revision=1,
        seq=body["seq"],
        stage=body["stage"],
        signer_id=body["signer_id"],
        signature_hash="h",
        signed_at=NOW,
    )


def test_every_request_to_signing_is_remembered_until_confirmed(directory: Directory) -> None:
    matter = approved_route(directory)
    assert sorted(r["seq"] for r in matter.outstanding if r["kind"] != "approval") == list(range(1, 8))
    assert [r["kind"] for r in matter.outstanding].count("approval") == 1
    first = next(r for r in matter.outstanding if r["seq"] == 1)
    wf.on_signature_applied(matter, signature_applied(first))
    assert 1 not in [r["seq"] for r in matter.outstanding]


def test_an_act_announced_again_is_applied_once(directory: Directory) -> None:
    matter = approved_route(directory)
    first = next(r for r in matter.outstanding if r["seq"] == 1)
    assert wf.on_signature_applied(matter, signature_applied(first)).trail
    again = wf.on_signature_applied(matter, signature_applied(first))
    assert not again.trail and not again.messages
    assert [s.seq for s in matter.signatures] == [1]


def test_a_stalled_matter_gets_its_unconfirmed_requests_again_and_the_trail_says_so(directory: Directory) -> None:
    matter = approved_route(directory)
    for request in [r for r in matter.outstanding if r["kind"] == "signature" and r["seq"] <= 3]:
        wf.on_signature_applied(matter, signature_applied(request))
    assert wf.reissue_stalled(matter, NOW, NOW + timedelta(minutes=4)).trail == []  # not due yet
    later = NOW + timedelta(minutes=3)
    effects = wf.reissue_stalled(matter, later, later + timedelta(minutes=4))
    sent = [(type(msg).__name__, getattr(msg, "seq", None)) for msg in effects.messages]
    assert sorted(seq for _, seq in sent if seq) == [4, 5, 6, 7]  # act 4 is the village seal, after stage 2
    assert ("RegisterApproval", None) in sent
    assert all(msg.reissued for msg in effects.messages)
    entry = effects.trail[-1]
    assert entry["type"] == "reconcile.reissued" and entry["data"]["acts"] == [4, 5, 6, 7] and entry["data"]["approval"] is True
    assert matter.stalled_check_at == later + timedelta(minutes=4) and matter.reissues == 1
    # The requests sent again are not remembered twice, and the same round is not repeated before its time.
    wf.track_requests(matter, effects.messages)
    assert len(matter.outstanding) == 5
    assert wf.reissue_stalled(matter, later, later + timedelta(minutes=8)).trail == []


def test_a_completed_matter_is_no_longer_checked(directory: Directory) -> None:
    matter = approved_route(directory)
    for request in list(matter.outstanding):
        if request["kind"] == "signature":
            wf.on_signature_applied(matter, signature_applied(request))
        elif request["kind"] == "seal":
            body = request["body"]
            wf.on_seal_applied(
                matter,
                m.SealApplied(
                    matter_id="m1",
                    revision=1,
                    seq=body["seq"],
                    stage=body["stage"],
                    seal_id=body["seal_id"],
                    seal_use_id="u",
                    signature_hash="h",
                    applied_at=NOW,
                ),  # fmt: skip
            )
    wf.on_approval_registered(matter, m.ApprovalRegistered(matter_id="m1", approval_number="YN-2026-000001", registered_at=NOW))
    assert matter.status == "completed" and matter.outstanding == [] and matter.stalled_check_at is None
    assert wf.reissue_stalled(matter, NOW + timedelta(days=1), NOW + timedelta(days=2)).trail == []
