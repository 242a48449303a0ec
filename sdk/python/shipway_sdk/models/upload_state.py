from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="UploadState")



@_attrs_define
class UploadState:
    """ 
        Attributes:
            upload_id (str):
            size_received (int): Bytes so far: resume from here.
            size_total (int):
            complete (bool):
     """

    upload_id: str
    size_received: int
    size_total: int
    complete: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        upload_id = self.upload_id

        size_received = self.size_received

        size_total = self.size_total

        complete = self.complete


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "uploadId": upload_id,
            "sizeReceived": size_received,
            "sizeTotal": size_total,
            "complete": complete,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        upload_id = d.pop("uploadId")

        size_received = d.pop("sizeReceived")

        size_total = d.pop("sizeTotal")

        complete = d.pop("complete")

        upload_state = cls(
            upload_id=upload_id,
            size_received=size_received,
            size_total=size_total,
            complete=complete,
        )


        upload_state.additional_properties = d
        return upload_state

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
