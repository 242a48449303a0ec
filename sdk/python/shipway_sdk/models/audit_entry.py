from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.audit_actor import AuditActor





T = TypeVar("T", bound="AuditEntry")



@_attrs_define
class AuditEntry:
    """ 
        Attributes:
            id (str):
            action (str):
            actor (AuditActor):
            resource (str):
            resource_id (str):
            ip (None | str):
            created_at (datetime.datetime):
            data (Any):
     """

    id: str
    action: str
    actor: AuditActor
    resource: str
    resource_id: str
    ip: None | str
    created_at: datetime.datetime
    data: Any
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_actor import AuditActor # noqa: PLC0415
        id = self.id

        action = self.action

        actor = self.actor.to_dict()

        resource = self.resource

        resource_id = self.resource_id

        ip: None | str
        ip = self.ip

        created_at = self.created_at.isoformat()

        data = self.data


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "action": action,
            "actor": actor,
            "resource": resource,
            "resourceId": resource_id,
            "ip": ip,
            "createdAt": created_at,
            "data": data,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_actor import AuditActor # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        action = d.pop("action")

        actor = AuditActor.from_dict(d.pop("actor"))




        resource = d.pop("resource")

        resource_id = d.pop("resourceId")

        def _parse_ip(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ip = _parse_ip(d.pop("ip"))


        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        data = d.pop("data")

        audit_entry = cls(
            id=id,
            action=action,
            actor=actor,
            resource=resource,
            resource_id=resource_id,
            ip=ip,
            created_at=created_at,
            data=data,
        )


        audit_entry.additional_properties = d
        return audit_entry

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
