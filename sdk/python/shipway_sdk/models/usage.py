from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.range_enum import RangeEnum
from typing import cast

if TYPE_CHECKING:
  from ..models.usage_series import UsageSeries





T = TypeVar("T", bound="Usage")



@_attrs_define
class Usage:
    """ 
        Attributes:
            range_ (RangeEnum): * `24h` - 24h
                * `7d` - 7d
                * `30d` - 30d
            build_seconds (float):
            deployments (int):
            storage_bytes (int):
            requests (int):
            bandwidth_bytes (int):
            series (UsageSeries):
     """

    range_: RangeEnum
    build_seconds: float
    deployments: int
    storage_bytes: int
    requests: int
    bandwidth_bytes: int
    series: UsageSeries
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_series import UsageSeries # noqa: PLC0415
        range_ = self.range_.value

        build_seconds = self.build_seconds

        deployments = self.deployments

        storage_bytes = self.storage_bytes

        requests = self.requests

        bandwidth_bytes = self.bandwidth_bytes

        series = self.series.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "range": range_,
            "buildSeconds": build_seconds,
            "deployments": deployments,
            "storageBytes": storage_bytes,
            "requests": requests,
            "bandwidthBytes": bandwidth_bytes,
            "series": series,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_series import UsageSeries # noqa: PLC0415
        d = dict(src_dict)
        range_ = RangeEnum(d.pop("range"))




        build_seconds = d.pop("buildSeconds")

        deployments = d.pop("deployments")

        storage_bytes = d.pop("storageBytes")

        requests = d.pop("requests")

        bandwidth_bytes = d.pop("bandwidthBytes")

        series = UsageSeries.from_dict(d.pop("series"))




        usage = cls(
            range_=range_,
            build_seconds=build_seconds,
            deployments=deployments,
            storage_bytes=storage_bytes,
            requests=requests,
            bandwidth_bytes=bandwidth_bytes,
            series=series,
        )


        usage.additional_properties = d
        return usage

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
