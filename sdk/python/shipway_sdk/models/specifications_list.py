from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.specification import Specification





T = TypeVar("T", bound="SpecificationsList")



@_attrs_define
class SpecificationsList:
    """ 
        Attributes:
            total (int):
            specifications (list[Specification]):
     """

    total: int
    specifications: list[Specification]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.specification import Specification # noqa: PLC0415
        total = self.total

        specifications = []
        for specifications_item_data in self.specifications:
            specifications_item = specifications_item_data.to_dict()
            specifications.append(specifications_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "total": total,
            "specifications": specifications,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.specification import Specification # noqa: PLC0415
        d = dict(src_dict)
        total = d.pop("total")

        specifications = []
        _specifications = d.pop("specifications")
        for specifications_item_data in (_specifications):
            specifications_item = Specification.from_dict(specifications_item_data)



            specifications.append(specifications_item)


        specifications_list = cls(
            total=total,
            specifications=specifications,
        )


        specifications_list.additional_properties = d
        return specifications_list

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
