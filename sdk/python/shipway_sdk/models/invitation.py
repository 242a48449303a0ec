from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.invitation_status_enum import InvitationStatusEnum
from typing import cast
import datetime






T = TypeVar("T", bound="Invitation")



@_attrs_define
class Invitation:
    """ 
        Attributes:
            id (str):
            team_id (str):
            email (str):
            roles (list[str]):
            status (InvitationStatusEnum): * `pending` - pending
                * `accepted` - accepted
                * `expired` - expired
            invited_by (None | str):
            created_at (datetime.datetime):
            expires_at (datetime.datetime):
     """

    id: str
    team_id: str
    email: str
    roles: list[str]
    status: InvitationStatusEnum
    invited_by: None | str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        team_id = self.team_id

        email = self.email

        roles = self.roles



        status = self.status.value

        invited_by: None | str
        invited_by = self.invited_by

        created_at = self.created_at.isoformat()

        expires_at = self.expires_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "teamId": team_id,
            "email": email,
            "roles": roles,
            "status": status,
            "invitedBy": invited_by,
            "createdAt": created_at,
            "expiresAt": expires_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        team_id = d.pop("teamId")

        email = d.pop("email")

        roles = cast(list[str], d.pop("roles"))


        status = InvitationStatusEnum(d.pop("status"))




        def _parse_invited_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        invited_by = _parse_invited_by(d.pop("invitedBy"))


        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))




        invitation = cls(
            id=id,
            team_id=team_id,
            email=email,
            roles=roles,
            status=status,
            invited_by=invited_by,
            created_at=created_at,
            expires_at=expires_at,
        )


        invitation.additional_properties = d
        return invitation

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
