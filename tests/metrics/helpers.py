"""Reading samples back from /metrics, as Prometheus would."""

from __future__ import annotations

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

#: The URL rule of one note, as Flask prints it: the label every note id is counted under.
NOTE_RULE = "/api/v1/notes/<int(min=1, max=2147483647):note_id>"


def scrape(client: FlaskClient) -> list[Sample]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def sample_value(client: FlaskClient, name: str, **labels: str) -> float:
    """The value of the sample with exactly these labels; 0 until it is first recorded.

    Metrics live as long as the process, so tests compare a value before and after acting.
    """
    for sample in scrape(client):
        if sample.name == name and sample.labels == labels:
            return sample.value
    return 0.0
