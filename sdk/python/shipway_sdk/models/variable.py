from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.scope_enum import ScopeEnum
from ..models.variable_environment_enum import VariableEnvironmentEnum
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="Variable")



@_attrs_define
class Variable:
    """ A variable; a secret's value reads as null and is never sent back.

        Attributes:
            id (str):
            site_id (str):
            key (str):
            value (None | str): A secret's reads as null.
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            secret (bool | Unset):
            scope (ScopeEnum | Unset): * `build` - Build
                * `runtime` - Runtime
                * `all` - Build and runtime
            environment (VariableEnvironmentEnum | Unset): * `production` - Production
                * `preview` - Preview
                * `all` - Production and preview Default: VariableEnvironmentEnum.ALL.
     """

    id: str
    site_id: str
    key: str
    value: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    secret: bool | Unset = UNSET
    scope: ScopeEnum | Unset = UNSET
    environment: VariableEnvironmentEnum | Unset = VariableEnvironmentEnum.ALL
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        site_id = self.site_id

        key = self.key

        value: None | str
        value = self.value

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        secret = self.secret

        scope: str | Unset = UNSET
        if not isinstance(self.scope, Unset):
            scope = self.scope.value


        environment: str | Unset = UNSET
        if not isinstance(self.environment, Unset):
            environment = self.environment.value



        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "siteId": site_id,
            "key": key,
            "value": value,
            "createdAt": created_at,
            "updatedAt": updated_at,
        })
        if secret is not UNSET:
            field_dict["secret"] = secret
        if scope is not UNSET:
            field_dict["scope"] = scope
        if environment is not UNSET:
            field_dict["environment"] = environment

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        site_id = d.pop("siteId")

        key = d.pop("key")

        def _parse_value(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        value = _parse_value(d.pop("value"))


        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))




        secret = d.pop("secret", UNSET)

        _scope = d.pop("scope", UNSET)
        scope: ScopeEnum | Unset
        if isinstance(_scope,  Unset):
            scope = UNSET
        else:
            scope = ScopeEnum(_scope)




        _environment = d.pop("environment", UNSET)
        environment: VariableEnvironmentEnum | Unset
        if isinstance(_environment,  Unset):
            environment = UNSET
        else:
            environment = VariableEnvironmentEnum(_environment)




        variable = cls(
            id=id,
            site_id=site_id,
            key=key,
            value=value,
            created_at=created_at,
            updated_at=updated_at,
            secret=secret,
            scope=scope,
            environment=environment,
        )


        variable.additional_properties = d
        return variable

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
