from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="Attempt")



@_attrs_define
class Attempt:
    """ 
        Attributes:
            series (int):
            number (int):
            status (str):
            response_status (int | None):
            duration_ms (int):
            error (str):
            started_at (datetime.datetime):
     """

    series: int
    number: int
    status: str
    response_status: int | None
    duration_ms: int
    error: str
    started_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        series = self.series

        number = self.number

        status = self.status

        response_status: int | None
        response_status = self.response_status

        duration_ms = self.duration_ms

        error = self.error

        started_at = self.started_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "series": series,
            "number": number,
            "status": status,
            "responseStatus": response_status,
            "durationMs": duration_ms,
            "error": error,
            "startedAt": started_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        series = d.pop("series")

        number = d.pop("number")

        status = d.pop("status")

        def _parse_response_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        response_status = _parse_response_status(d.pop("responseStatus"))


        duration_ms = d.pop("durationMs")

        error = d.pop("error")

        started_at = datetime.datetime.fromisoformat(d.pop("startedAt"))




        attempt = cls(
            series=series,
            number=number,
            status=status,
            response_status=response_status,
            duration_ms=duration_ms,
            error=error,
            started_at=started_at,
        )


        attempt.additional_properties = d
        return attempt

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
