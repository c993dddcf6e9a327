"""The named endpoints of the running app, called the way a README example would: gradio_client."""

from __future__ import annotations

import pytest
from conftest import RunningApp

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(running_app: RunningApp) -> object:
    return gradio_client.Client(running_app.url, verbose=False)


def test_only_the_three_endpoints_are_public(client: object) -> None:
    info = client.view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/ask", "/search", "/feedback"}


def test_ask_search_and_feedback(client: object, running_app: RunningApp) -> None:
    answer = client.predict("Wer kann sich um die Aufnahme bewerben?", api_name="/ask")
    assert answer["text"] and answer["citations"] and not answer["abstained"]
    assert answer["citations"][0]["n"] == 1 and "[1]" in answer["text"]
    assert answer["index_version"] == running_app.bot.index_version

    hits = client.predict("Membership programme", 2, "en", "", api_name="/search")
    assert 1 <= len(hits) <= 2 and all(h["language"] == "en" for h in hits)
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))

    before = running_app.store.count()
    result = client.predict("Wer kann sich um die Aufnahme bewerben?", answer, -1, "zu knapp",
                            api_name="/feedback")
    assert isinstance(result["id"], int) and running_app.store.count() == before + 1
    assert running_app.store.recent_negative(1)[0]["comment"] == "zu knapp"


def test_question_error_arrives_as_an_app_error(client: object) -> None:
    with pytest.raises(gradio_client.exceptions.AppError, match="Frage"):
        client.predict("   ", api_name="/ask")


def test_a_burst_of_questions_queues_and_all_are_answered(client: object, running_app: RunningApp) -> None:
    burst = 4 * running_app.settings.max_concurrency + 4  # more than run at once, less than the queue holds
    jobs = [client.submit(f"Wer kann sich bewerben? ({i})", api_name="/ask") for i in range(burst)]
    answers = [job.result(timeout=120) for job in jobs]
    assert [a["question"] for a in answers] == [f"Wer kann sich bewerben? ({i})" for i in range(burst)]
