from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.error_fields import ErrorFields





T = TypeVar("T", bound="Error")



@_attrs_define
class Error:
    """ Every 4xx and 5xx answer (core/api/errors.py).

        Attributes:
            message (str): One sentence for people.
            code (int): The HTTP status, again.
            type_ (str): What went wrong, for programs to match on: `validation_error`, `unauthorized`, `forbidden`,
                `not_found`, `conflict`, `rate_limited`...
            fields (ErrorFields | Unset): Validation errors only: the first message of each field, by its name.
     """

    message: str
    code: int
    type_: str
    fields: ErrorFields | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.error_fields import ErrorFields # noqa: PLC0415
        message = self.message

        code = self.code

        type_ = self.type_

        fields: dict[str, Any] | Unset = UNSET
        if not isinstance(self.fields, Unset):
            fields = self.fields.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "message": message,
            "code": code,
            "type": type_,
        })
        if fields is not UNSET:
            field_dict["fields"] = fields

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_fields import ErrorFields # noqa: PLC0415
        d = dict(src_dict)
        message = d.pop("message")

        code = d.pop("code")

        type_ = d.pop("type")

        _fields = d.pop("fields", UNSET)
        fields: ErrorFields | Unset
        if isinstance(_fields,  Unset):
            fields = UNSET
        else:
            fields = ErrorFields.from_dict(_fields)




        error = cls(
            message=message,
            code=code,
            type_=type_,
            fields=fields,
        )


        error.additional_properties = d
        return error

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
