"""How Nova shows a server, by microversion (``nova/api/openstack/compute/views/servers.py``).

The fields the client prints (observed with openstackclient 10.5.0: ``id``, ``name``, ``status``,
``flavor``, ``image``
are required; the rest fill the ``server show`` table). Version gates: ``flavor`` embedded from
2.47 (a link before); ``locked`` 2.9; ``host_status`` 2.16 (admin); ``description`` 2.19;
``tags`` 2.26; ``trusted_image_certificates`` 2.63; ``server_groups`` 2.71; ``locked_reason``
2.73; ``pinned_availability_zone`` 2.96. ``OS-EXT-SRV-ATTR:*`` are shown to admins only
(``os_compute_api:os-extended-server-attributes``). ``security_groups`` has one entry per port
and group — so a server with three ports in ``sg_test`` lists it three times, as the seed's
``server create`` output does (``get_instances_security_groups_bindings`` appends per port).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from fastapi import Request

from vmqos.api import compute_schemas as schemas
from vmqos.api.identity import root_url
from vmqos.api.microversion import Microversion
from vmqos.store.identity import TokenInfo
from vmqos.store.models import Network, Port, Server
from vmqos.store.scenario import instance_name

__all__ = ["POWER_RUNNING", "POWER_SHUTDOWN", "addresses", "iso", "links", "server_view"]

POWER_RUNNING = 1   # nova.compute.power_state.RUNNING; 0 is NOSTATE
POWER_SHUTDOWN = 4  # nova.compute.power_state.SHUTDOWN (a stopped server)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _usage_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def addresses(ports: Sequence[Port],
              networks: Mapping[str, Network]) -> dict[str, list[schemas.Address]]:
    out: dict[str, list[schemas.Address]] = {}
    for port in ports:
        network = networks.get(port.network_id)
        if network is None:
            continue
        for fixed in port.fixed_ips:
            address = fixed["ip_address"]
            out.setdefault(network.name, []).append(schemas.Address(
                version=6 if ":" in address else 4, addr=address, type="fixed",
                mac_addr=port.mac_address))
    return out


def links(request: Request, kind: str, object_id: str) -> list[schemas.Link]:
    root = root_url(request)
    return [schemas.Link(rel="self", href=f"{root}/compute/v2.1/{kind}/{object_id}"),
            schemas.Link(rel="bookmark", href=f"{root}/compute/{kind}/{object_id}")]


def _flavor(row: Server, mv: Microversion,
            request: Request) -> schemas.FlavorLink | schemas.EmbeddedFlavor:
    snap = row.flavor
    if not mv.at_least("2.47"):
        return schemas.FlavorLink(id=snap["id"], links=links(request, "flavors", snap["id"])[1:])
    return schemas.EmbeddedFlavor(
        vcpus=snap["vcpus"], ram=snap["ram"], disk=snap["disk"], ephemeral=snap["ephemeral"],
        swap=snap["swap"], original_name=snap["name"], extra_specs=dict(snap["extra_specs"]))


def server_view(row: Server, mv: Microversion, who: TokenInfo, request: Request, *,
                ports: Sequence[Port], networks: Mapping[str, Network],
                sg_names: Mapping[str, str], host: str) -> schemas.Server:
    image: schemas.ImageLink | Literal[""] = (
        schemas.ImageLink(id=row.image_id, links=links(request, "images", row.image_id)[1:])
        if row.image_id else "")
    groups = [schemas.SecurityGroupName(name=sg_names.get(sg, sg)) for port in ports
              for sg in port.security_group_ids]
    # None: created before hosts were registered, on the built-in host; "": scheduled nowhere
    # (NoValidHost), where Nova's generate_hostid gives "" and the host is null.
    host = host if row.host is None else row.host
    view = schemas.Server(
        id=row.id, name=row.name, status=row.status, tenant_id=row.project_id,
        user_id=row.user_id, metadata=dict(row.metadata_),
        hostId=hashlib.sha224((row.project_id + host).encode()).hexdigest() if host else "",
        image=image, flavor=_flavor(row, mv, request),
        created=iso(row.created_at), updated=iso(row.updated_at),
        addresses=addresses(ports, networks), accessIPv4="", accessIPv6="",
        links=links(request, "servers", row.id),
        disk_config="MANUAL", availability_zone=row.availability_zone,
        config_drive="", key_name=row.key_name,
        launched_at=_usage_time(row.launched_at), terminated_at=None,
        task_state=None, vm_state=row.vm_state, power_state=row.power_state,
        volumes_attached=[], security_groups=groups)
    # nova/api/openstack/compute/views/servers.py _progress_statuses
    if row.status in ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"):
        view.progress = 0
    # nova/api/openstack/compute/views/servers.py: the fault shows in ERROR and DELETED only
    # (a resize that found no host leaves one on an ACTIVE server, unseen).
    if row.fault and row.status in ("ERROR", "DELETED"):
        view.fault = schemas.Fault(code=row.fault["code"], created=row.fault["created"],
                                   message=row.fault["message"])
    if who.is_admin:
        view.host = view.hypervisor_hostname = host or None
        view.instance_name = instance_name(row.seq)
        if mv.at_least("2.3"):
            view.reservation_id = f"r-{row.id[:8]}"
            view.launch_index = 0
            view.hostname = row.name.replace("_", "-").lower()
            view.kernel_id = view.ramdisk_id = ""
            view.root_device_name = "/dev/vda"
            view.user_data = None
        if mv.at_least("2.16"):
            view.host_status = "UP"
    if mv.at_least("2.9"):
        view.locked = False
    if mv.at_least("2.19"):
        view.description = row.description
    if mv.at_least("2.26"):
        view.tags = []
    if mv.at_least("2.63"):
        view.trusted_image_certificates = None
    if mv.at_least("2.71"):
        view.server_groups = []
    if mv.at_least("2.73"):
        view.locked_reason = None
    if mv.at_least("2.96"):
        view.pinned_availability_zone = None
    return view
