from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.variable import Variable





T = TypeVar("T", bound="VariablesList")



@_attrs_define
class VariablesList:
    """ 
        Attributes:
            total (int):  Example: 1.
            variables (list[Variable]):
     """

    total: int
    variables: list[Variable]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.variable import Variable # noqa: PLC0415
        total = self.total

        variables = []
        for variables_item_data in self.variables:
            variables_item = variables_item_data.to_dict()
            variables.append(variables_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "total": total,
            "variables": variables,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.variable import Variable # noqa: PLC0415
        d = dict(src_dict)
        total = d.pop("total")

        variables = []
        _variables = d.pop("variables")
        for variables_item_data in (_variables):
            variables_item = Variable.from_dict(variables_item_data)



            variables.append(variables_item)


        variables_list = cls(
            total=total,
            variables=variables,
        )


        variables_list.additional_properties = d
        return variables_list

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
