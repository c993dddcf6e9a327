"""Known defects of the learned answer selector, each a requirement it does not meet yet (strict: a fix
turns the test red, so the marker is removed with the fix)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.xfail(strict=True, reason="the person/organisation feature ranks 'Anträge können jederzeit bei der "
                   "VDI/VDE ... GmbH eingereicht werden' above the sentence that names who may apply")
def test_who_may_apply_names_the_innovation_clusters_from_germany(real_bot):
    answer = real_bot.answer("Wer darf sich bewerben?")
    assert "Innovationscluster aus Deutschland" in answer.text


@pytest.mark.xfail(strict=True, reason="same defect in English: the VDI/VDE submission sentence wins")
def test_who_can_apply_in_english(real_bot):
    answer = real_bot.answer("Who can apply?")
    assert "based in Germany" in answer.text or "Innovationscluster aus Deutschland" in answer.text
