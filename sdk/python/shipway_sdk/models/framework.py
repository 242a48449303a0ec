from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.default_adapter_enum import DefaultAdapterEnum
from typing import cast

if TYPE_CHECKING:
  from ..models.framework_adapter import FrameworkAdapter





T = TypeVar("T", bound="Framework")



@_attrs_define
class Framework:
    """ 
        Attributes:
            key (str):
            name (str):
            build_runtime (str):
            default_adapter (DefaultAdapterEnum): * `static` - static
                * `ssr` - ssr
            adapters (list[FrameworkAdapter]):
     """

    key: str
    name: str
    build_runtime: str
    default_adapter: DefaultAdapterEnum
    adapters: list[FrameworkAdapter]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.framework_adapter import FrameworkAdapter # noqa: PLC0415
        key = self.key

        name = self.name

        build_runtime = self.build_runtime

        default_adapter = self.default_adapter.value

        adapters = []
        for adapters_item_data in self.adapters:
            adapters_item = adapters_item_data.to_dict()
            adapters.append(adapters_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "name": name,
            "buildRuntime": build_runtime,
            "defaultAdapter": default_adapter,
            "adapters": adapters,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.framework_adapter import FrameworkAdapter # noqa: PLC0415
        d = dict(src_dict)
        key = d.pop("key")

        name = d.pop("name")

        build_runtime = d.pop("buildRuntime")

        default_adapter = DefaultAdapterEnum(d.pop("defaultAdapter"))




        adapters = []
        _adapters = d.pop("adapters")
        for adapters_item_data in (_adapters):
            adapters_item = FrameworkAdapter.from_dict(adapters_item_data)



            adapters.append(adapters_item)


        framework = cls(
            key=key,
            name=name,
            build_runtime=build_runtime,
            default_adapter=default_adapter,
            adapters=adapters,
        )


        framework.additional_properties = d
        return framework

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
