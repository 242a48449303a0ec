from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.usage_point import UsagePoint





T = TypeVar("T", bound="UsageSeries")



@_attrs_define
class UsageSeries:
    """ 
        Attributes:
            requests (list[UsagePoint]):
            bandwidth_bytes (list[UsagePoint]):
            build_seconds (list[UsagePoint]):
     """

    requests: list[UsagePoint]
    bandwidth_bytes: list[UsagePoint]
    build_seconds: list[UsagePoint]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_point import UsagePoint # noqa: PLC0415
        requests = []
        for requests_item_data in self.requests:
            requests_item = requests_item_data.to_dict()
            requests.append(requests_item)



        bandwidth_bytes = []
        for bandwidth_bytes_item_data in self.bandwidth_bytes:
            bandwidth_bytes_item = bandwidth_bytes_item_data.to_dict()
            bandwidth_bytes.append(bandwidth_bytes_item)



        build_seconds = []
        for build_seconds_item_data in self.build_seconds:
            build_seconds_item = build_seconds_item_data.to_dict()
            build_seconds.append(build_seconds_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "requests": requests,
            "bandwidthBytes": bandwidth_bytes,
            "buildSeconds": build_seconds,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_point import UsagePoint # noqa: PLC0415
        d = dict(src_dict)
        requests = []
        _requests = d.pop("requests")
        for requests_item_data in (_requests):
            requests_item = UsagePoint.from_dict(requests_item_data)



            requests.append(requests_item)


        bandwidth_bytes = []
        _bandwidth_bytes = d.pop("bandwidthBytes")
        for bandwidth_bytes_item_data in (_bandwidth_bytes):
            bandwidth_bytes_item = UsagePoint.from_dict(bandwidth_bytes_item_data)



            bandwidth_bytes.append(bandwidth_bytes_item)


        build_seconds = []
        _build_seconds = d.pop("buildSeconds")
        for build_seconds_item_data in (_build_seconds):
            build_seconds_item = UsagePoint.from_dict(build_seconds_item_data)



            build_seconds.append(build_seconds_item)


        usage_series = cls(
            requests=requests,
            bandwidth_bytes=bandwidth_bytes,
            build_seconds=build_seconds,
        )


        usage_series.additional_properties = d
        return usage_series

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
