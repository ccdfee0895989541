"""Docker SDK and transport errors turned into ContainerError.

Error policy (ContainerError.retryable):
- engine unreachable, timeouts, HTTP 409 conflicts, and 5xx answers outside
  `start` -> retryable (trying again later may help);
- image missing (and pulling not allowed or failed with 404), unknown
  container, any engine refusal while creating/starting a container (for
  example GPUs requested without the NVIDIA runtime) -> not retryable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker.errors
import requests.exceptions

from core.domain.container import ContainerError

# Failures to reach the engine at all: always worth trying again later.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.RequestException,
    ConnectionError,
    TimeoutError,
)


def explain(exc: docker.errors.APIError) -> str:
    """The engine's own words for `exc` (its explanation, decoded), for logs and messages."""
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


@contextlib.contextmanager
def engine_errors(action: str, *, refusal_retryable: bool | None = None) -> Iterator[None]:
    """Translate docker SDK / transport errors into ContainerError.

    refusal_retryable: retryability of a non-409 APIError; None means "5xx
    are retryable, 4xx are not". A 409 conflict is always retryable.
    """
    try:
        yield
    except ContainerError:
        raise
    except docker.errors.ImageNotFound as exc:
        raise ContainerError(
            f"{action}: image not found: {explain(exc)}", retryable=False
        ) from exc
    except docker.errors.NotFound as exc:
        raise ContainerError(f"{action}: {explain(exc)}", retryable=False) from exc
    except docker.errors.APIError as exc:
        status = exc.status_code or 500
        if status == 409:  # conflict (e.g. a concurrent create): trying again may help
            retryable = True
        elif refusal_retryable is not None:
            retryable = refusal_retryable
        else:
            retryable = status >= 500
        raise ContainerError(f"{action}: {explain(exc)}", retryable=retryable) from exc
    except TRANSPORT_ERRORS as exc:
        raise ContainerError(f"{action}: Docker engine unreachable: {exc}", retryable=True) from exc
    except docker.errors.DockerException as exc:
        raise ContainerError(f"{action}: Docker engine error: {exc}", retryable=True) from exc
