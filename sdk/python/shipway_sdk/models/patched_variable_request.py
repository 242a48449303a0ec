from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.scope_enum import ScopeEnum
from ..models.variable_environment_enum import VariableEnvironmentEnum
from ..types import UNSET, Unset






T = TypeVar("T", bound="PatchedVariableRequest")



@_attrs_define
class PatchedVariableRequest:
    """ A variable; a secret's value reads as null and is never sent back.

        Attributes:
            key (str | Unset):
            value (str | Unset): A secret's reads as null.
            secret (bool | Unset):
            scope (ScopeEnum | Unset): * `build` - Build
                * `runtime` - Runtime
                * `all` - Build and runtime
            environment (VariableEnvironmentEnum | Unset): * `production` - Production
                * `preview` - Preview
                * `all` - Production and preview Default: VariableEnvironmentEnum.ALL.
     """

    key: str | Unset = UNSET
    value: str | Unset = UNSET
    secret: bool | Unset = UNSET
    scope: ScopeEnum | Unset = UNSET
    environment: VariableEnvironmentEnum | Unset = VariableEnvironmentEnum.ALL
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        value = self.value

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
        })
        if key is not UNSET:
            field_dict["key"] = key
        if value is not UNSET:
            field_dict["value"] = value
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
        key = d.pop("key", UNSET)

        value = d.pop("value", UNSET)

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




        patched_variable_request = cls(
            key=key,
            value=value,
            secret=secret,
            scope=scope,
            environment=environment,
        )


        patched_variable_request.additional_properties = d
        return patched_variable_request

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
