"""The workflow JSON's ``audits`` section: it becomes the engine's AuditPolicy, and every bad value is
refused naming the key (the server answers 422 with that message)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from labelgate.core.errors import InvariantError
from labelgate.server.services.workflow_config import build_config, check_config
from labelgate.workflow import AuditPolicy


def test_audits_become_the_engine_policy() -> None:
    assert build_config({}).audits == AuditPolicy()
    policy = build_config({"audits": {"rate": 0.25, "seed": 7, "min_gap": 5}}).audits
    assert (policy.rate, policy.seed, policy.min_gap) == (0.25, 7, 5)
    assert build_config({"audits": {"rate": 1}}).audits.rate == 1.0


@pytest.mark.parametrize(("audits", "message"), [
    ({"fraction": 0.1}, "'audits' has unknown keys ['fraction']; known: ['rate', 'seed', 'min_gap']"),
    ({"rate": -0.1}, "'audits.rate' must be a number in [0, 1], got -0.1"),
    ({"rate": "0.1"}, "'audits.rate' must be a number in [0, 1], got '0.1'"),
    ({"rate": True}, "'audits.rate' must be a number in [0, 1], got True"),
    ({"seed": 1.5}, "'audits.seed' must be an integer, got 1.5"),
    ({"min_gap": 0}, "'audits.min_gap' must be an integer >= 1"),
    ({"min_gap": 2.0}, "'audits.min_gap' must be an integer >= 1"),
    ([0.1], "workflow 'audits' must be an object, got list"),
])
def test_bad_audits_are_refused_naming_the_key(audits: object, message: str) -> None:
    with pytest.raises(InvariantError) as err:
        build_config({"audits": audits})
    assert message in str(err.value)


def test_audits_need_a_blind_project() -> None:
    assert check_config({"audits": {"rate": 0.1}}, blind=True)
    assert check_config({"audits": {"rate": 0.0}}, blind=False)
    with pytest.raises(InvariantError, match="audits need a blind project"):
        check_config({"audits": {"rate": 0.1}}, blind=False)
