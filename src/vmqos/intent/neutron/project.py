"""The project of a Neutron request body: the twins ``tenant_id`` and ``project_id``.

Neutron settles the twins before it looks at any other attribute of a body:
``neutron/api/v2/base.py`` ``Controller.prepare_request_body`` (run by the pecan
``BodyValidationHook``, which precedes the ``PolicyHook``) calls neutron-lib's
``AttributeInfo.populate_project_id`` (``neutron_lib/api/attributes.py``) first, on POST and PUT
alike, and only then ``verify_attributes``, ``fill_post_defaults`` and ``convert_values``.
:func:`populate_project_id` is that step, for every vmqos resource that takes these bodies
(QoS policies and rules, networks, ports, security groups, subnets):

1. ``populate_project_info``: the twin that is missing gets the value of the one given — any
   JSON value, not only a string; both given and different (Python ``!=``, so ``1`` and
   ``true`` agree, ``"1"`` and ``1`` do not) is ``'project_id' and 'tenant_id' do not match``;
2. ``_validate_privileges``: a ``project_id`` other than the caller's is refused unless the
   caller may set one (``ContextBase.can_set_project_id``: admin or the ``service`` role).

Invariants every caller inherits, because the twins are settled first:

* a mismatch is the answer whatever else the body holds, an unknown attribute included, and for
  any caller; the privilege refusal comes next, also before any unknown attribute;
* the body that goes on always holds both twins or neither: a resource whose attribute map has
  neither (the QoS rule sub-resources, the minimum packet rate alias) names *both* in its
  ``Unrecognized attribute(s)`` message even when one was sent, and one whose map has
  ``tenant_id`` (policies, networks, ports; ``populate_project_info(attr_info)`` adds
  ``project_id`` after the map's other attributes) reports ``tenant_id`` — read-only on PUT,
  not a string on POST — even when only ``project_id`` was sent.

Without a :class:`Requester` (``vmqos validate``, scenario files) there is no authenticated
project, and nothing to compare with: the body is answered as an admin's would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vmqos.errors import ValidationError

__all__ = ["PROJECT_FIELDS", "Requester", "populate_project_id", "populate_project_info"]

# The order every Neutron attribute map holds them in: tenant_id is the map's own attribute,
# project_id is appended by populate_project_info(attr_info).
PROJECT_FIELDS = ("tenant_id", "project_id")

_MISMATCH = "'project_id' and 'tenant_id' do not match"
# neutron-lib >= 3.25.0; 3.23.0-3.24.x said "Specifying 'project_id' or 'tenant_id' other than
# the authenticated project in request is not allowed for current user.", earlier releases
# "... requires admin or advsvc privileges".
_PRIVILEGES = ("Specifying 'project_id' other than the authenticated project in request is not "
               "allowed for the current user.")


@dataclass(frozen=True, slots=True)
class Requester:
    """What neutron-lib's request context knows of the caller that matters to the twins."""

    project_id: str
    can_set_project_id: bool


def populate_project_info(body: Mapping[str, object]) -> dict[str, object]:
    """neutron-lib ``attributes.populate_project_info``: a copy of ``body`` with the missing twin
    added (after the body's own keys); 400 when both are given and differ."""
    out = dict(body)
    if "tenant_id" in out and "project_id" not in out:
        out["project_id"] = out["tenant_id"]
    elif "project_id" in out and "tenant_id" not in out:
        out["tenant_id"] = out["project_id"]
    if out.get("project_id") != out.get("tenant_id"):
        raise ValidationError(_MISMATCH, key="project_id", value=out["project_id"],
                              allowed=f"the same value as tenant_id ({out['tenant_id']!r})")
    return out


def populate_project_id(body: Mapping[str, object],
                        requester: Requester | None = None) -> dict[str, object]:
    """neutron-lib ``AttributeInfo.populate_project_id`` up to ``_validate_privileges``; filling
    an absent project from the caller on create is the resource's own business (a policy's is
    :func:`vmqos.intent.neutron.policy.parse_policy`)."""
    out = populate_project_info(body)
    if (requester is not None and "project_id" in out
            and out["project_id"] != requester.project_id
            and not requester.can_set_project_id):
        raise ValidationError(_PRIVILEGES, key="project_id", value=out["project_id"],
                              allowed=f"{requester.project_id} (the token's project)")
    return out
