"""Check evaluations over HTTP: stored on a model version
(``/api/v1/models/<name>/versions/<n>/evaluations``), read back by id
(``/api/v1/evaluations/<id>``). Storing one carries an idempotency key, so a request retried
after a dropped connection stores it once."""

from __future__ import annotations

from urllib.parse import quote

from modelyard.domain.evaluations import Evaluation, NewEvaluation
from modelyard.store.rest import _codec as c
from modelyard.store.rest._http import Transport, new_key


def _evaluations_path(model: str, number: int) -> str:
    return f"/models/{quote(model, safe='')}/versions/{int(number)}/evaluations"


class RestEvaluationStore:
    def __init__(self, http: Transport) -> None:
        self._http = http

    def add(self, new: NewEvaluation) -> Evaluation:
        """Store ``new`` on its model version; the version must exist."""
        path = _evaluations_path(new.model, new.number)
        answer = self._http.call("POST", path, body=c.new_evaluation_to_json(new), key=new_key())
        return c.evaluation_from_json(answer)

    def get(self, evaluation_id: str) -> Evaluation:
        answer = self._http.call("GET", f"/evaluations/{quote(evaluation_id, safe='')}")
        return c.evaluation_from_json(answer)

    def list(self, model: str, number: int, *, limit: int = 100) -> list[Evaluation]:
        """Evaluations of one version, newest first."""
        answer = self._http.call("GET", _evaluations_path(model, number), params={"limit": limit})
        return [c.evaluation_from_json(e) for e in answer["items"]]
