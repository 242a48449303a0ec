from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.roles_enum import RolesEnum
from typing import cast
import datetime






T = TypeVar("T", bound="Membership")



@_attrs_define
class Membership:
    """ 
        Attributes:
            id (str):
            team_id (str):
            user_id (str):
            username (str):
            email (str):
            roles (list[RolesEnum]):
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
     """

    id: str
    team_id: str
    user_id: str
    username: str
    email: str
    roles: list[RolesEnum]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        team_id = self.team_id

        user_id = self.user_id

        username = self.username

        email = self.email

        roles = []
        for roles_item_data in self.roles:
            roles_item = roles_item_data.value
            roles.append(roles_item)



        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "teamId": team_id,
            "userId": user_id,
            "username": username,
            "email": email,
            "roles": roles,
            "createdAt": created_at,
            "updatedAt": updated_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        team_id = d.pop("teamId")

        user_id = d.pop("userId")

        username = d.pop("username")

        email = d.pop("email")

        roles = []
        _roles = d.pop("roles")
        for roles_item_data in (_roles):
            roles_item = RolesEnum(roles_item_data)



            roles.append(roles_item)


        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))




        membership = cls(
            id=id,
            team_id=team_id,
            user_id=user_id,
            username=username,
            email=email,
            roles=roles,
            created_at=created_at,
            updated_at=updated_at,
        )


        membership.additional_properties = d
        return membership

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
