"""The base of every response model, so that ``/openapi.json`` describes what is answered.

Each route declares the model of its body as its return type (FastAPI's ``response_model``;
where Neutron keys a body by the path, e.g. ``{"bandwidth_limit_rule": ...}``, a mapping to
the models); the view functions build the models from store records. The models are strict:
a value of the wrong type is a bug, answered 500 and logged, never quietly converted into
another value on the wire. Wire names that are not Python names (``OS-FLV-EXT-DATA:ephemeral``,
``binding:vnic_type``) are serialization aliases, and the view functions use the Python name;
an image, whose extra properties could take any name, is read by its wire names
(:mod:`vmqos.api.image_schemas`).

Fields that a microversion or the caller's role gates have a default and are left unset when
they do not apply (a view sets them by assignment, which is validated too); their routes answer
with ``response_model_exclude_unset=True``, so an unset field is absent from the body (not
``null``), as in Nova and Neutron. Every other field is required, so that a view cannot forget
it.

Errors never go through these models: they leave in each service's own shape
(:mod:`vmqos.api.errors`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ResponseModel"]


class ResponseModel(BaseModel):
    model_config = ConfigDict(strict=True, validate_assignment=True)
