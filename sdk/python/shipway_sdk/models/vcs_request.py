from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.type_enum import TypeEnum
from ..types import UNSET, Unset






T = TypeVar("T", bound="VcsRequest")



@_attrs_define
class VcsRequest:
    """ 
        Attributes:
            repository (str):
            reference (str):
            type_ (TypeEnum): * `branch` - branch
                * `commit` - commit
                * `tag` - tag
            activate (bool | Unset):  Default: True.
     """

    repository: str
    reference: str
    type_: TypeEnum
    activate: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        repository = self.repository

        reference = self.reference

        type_ = self.type_.value

        activate = self.activate


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "repository": repository,
            "reference": reference,
            "type": type_,
        })
        if activate is not UNSET:
            field_dict["activate"] = activate

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        repository = d.pop("repository")

        reference = d.pop("reference")

        type_ = TypeEnum(d.pop("type"))




        activate = d.pop("activate", UNSET)

        vcs_request = cls(
            repository=repository,
            reference=reference,
            type_=type_,
            activate=activate,
        )


        vcs_request.additional_properties = d
        return vcs_request

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
