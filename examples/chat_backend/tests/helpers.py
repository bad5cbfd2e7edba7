"""Helpers of the chat backend's tests: users, vectors, and checks of the seeds' error body."""

from __future__ import annotations

import math
import random
import uuid
from datetime import datetime
from typing import Optional

from fastapi.testclient import TestClient

DIMENSION = 1536  # mnemod's default, and the seeds' embedding size


class User:
    """Headers acting for one fresh user id."""

    def __init__(self) -> None:
        self.id = f"user-{uuid.uuid4().hex[:12]}"
        self.headers = {"X-User-ID": self.id}


def unit_vector(seed: int, dimension: int = DIMENSION) -> list[float]:
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def assert_error(response, status: int, code: str, field: Optional[str] = None) -> dict:
    """The seeds' error body with this status and code (and details.field, when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "request_id", "details"}, error
    assert error["code"] == code, error
    assert error["message"], error
    assert error["request_id"] == response.headers["X-Request-ID"]
    if field is not None:
        assert error["details"].get("field") == field, error
    return error


def new_conversation(api: TestClient, user: User, title: str = "Trip planning",
                     **fields: object) -> dict:
    response = api.post("/api/v1/conversations", json={"title": title, **fields},
                        headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def ts(text: str) -> datetime:
    """An answer's ISO-8601 timestamp, for comparisons."""
    return datetime.fromisoformat(text)
