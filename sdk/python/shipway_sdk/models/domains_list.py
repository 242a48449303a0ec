from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.domain import Domain





T = TypeVar("T", bound="DomainsList")



@_attrs_define
class DomainsList:
    """ 
        Attributes:
            total (int):  Example: 1.
            domains (list[Domain]):
     """

    total: int
    domains: list[Domain]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.domain import Domain # noqa: PLC0415
        total = self.total

        domains = []
        for domains_item_data in self.domains:
            domains_item = domains_item_data.to_dict()
            domains.append(domains_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "total": total,
            "domains": domains,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.domain import Domain # noqa: PLC0415
        d = dict(src_dict)
        total = d.pop("total")

        domains = []
        _domains = d.pop("domains")
        for domains_item_data in (_domains):
            domains_item = Domain.from_dict(domains_item_data)



            domains.append(domains_item)


        domains_list = cls(
            total=total,
            domains=domains,
        )


        domains_list.additional_properties = d
        return domains_list

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
