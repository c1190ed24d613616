"""What every ``/_sandbox/`` admin route does first: check the key, then read its JSON body."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from primer_nb.api.validation import field_errors
from primer_nb.sandbox.core.replies import Reply
from primer_nb.sandbox.core.service import SandboxService

__all__ = ["admin_body"]

_Model = TypeVar("_Model", bound=BaseModel)


async def admin_body(service: SandboxService, request: Request, model: type[_Model]) -> _Model | Reply:
    """The request's body as ``model`` (an empty body is ``{}``), or the reply refusing the call."""
    refused = service.check_auth(request.headers)
    if refused:
        return refused
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        return service.invalid(field_errors(exc), model.__name__)
