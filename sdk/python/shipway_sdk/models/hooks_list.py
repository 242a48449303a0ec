from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.deploy_hook import DeployHook





T = TypeVar("T", bound="HooksList")



@_attrs_define
class HooksList:
    """ 
        Attributes:
            total (int):  Example: 1.
            hooks (list[DeployHook]):
     """

    total: int
    hooks: list[DeployHook]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.deploy_hook import DeployHook # noqa: PLC0415
        total = self.total

        hooks = []
        for hooks_item_data in self.hooks:
            hooks_item = hooks_item_data.to_dict()
            hooks.append(hooks_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "total": total,
            "hooks": hooks,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.deploy_hook import DeployHook # noqa: PLC0415
        d = dict(src_dict)
        total = d.pop("total")

        hooks = []
        _hooks = d.pop("hooks")
        for hooks_item_data in (_hooks):
            hooks_item = DeployHook.from_dict(hooks_item_data)



            hooks.append(hooks_item)


        hooks_list = cls(
            total=total,
            hooks=hooks,
        )


        hooks_list.additional_properties = d
        return hooks_list

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
