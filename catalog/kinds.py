"""The three kinds of function — source, destination, insert — described once.

Every place that dispatches on a function's type reads this registry: the slug of its URLs and
catalog tab (also the runtime's function type), Segment's id prefix, the instance model that
runs it and the field of a Deploy that lists those instances. The instance models belong to the
deploys app, which depends on this one, so they are named here and looked up when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.apps import apps

from catalog.models import ResourceType

if TYPE_CHECKING:
    from functions_ui.deploys.models import DestinationInstance, InsertInstance, SourceInstance

    InstanceModel = type[SourceInstance] | type[DestinationInstance] | type[InsertInstance]


@dataclass(frozen=True)
class Kind:
    resource_type: ResourceType
    slug: str
    label: str
    id_prefix: str
    instance_model_name: str
    deploy_targets: str

    @property
    def instance_model(self) -> InstanceModel:
        model: InstanceModel = apps.get_model(self.instance_model_name)
        return model


KINDS: tuple[Kind, ...] = (
    Kind(
        ResourceType.SOURCE,
        "source",
        "Source",
        "sfnc_",
        "deploys.SourceInstance",
        "source_instances",
    ),
    Kind(
        ResourceType.DESTINATION,
        "destination",
        "Destination",
        "dfn_",
        "deploys.DestinationInstance",
        "destination_instances",
    ),
    Kind(
        ResourceType.INSERT_DESTINATION,
        "insert",
        "Insert",
        "ifnd_",
        "deploys.InsertInstance",
        "insert_instances",
    ),
)
_BY_TYPE = {kind.resource_type: kind for kind in KINDS}
KINDS_BY_SLUG = {kind.slug: kind for kind in KINDS}


def kind_of(resource_type: str) -> Kind:
    """The kind of a resource type (a ResourceType or its stored value)."""
    return _BY_TYPE[ResourceType(resource_type)]
