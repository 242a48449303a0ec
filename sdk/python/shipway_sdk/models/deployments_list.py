from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.deployment import Deployment





T = TypeVar("T", bound="DeploymentsList")



@_attrs_define
class DeploymentsList:
    """ 
        Attributes:
            total (int):  Example: 1.
            deployments (list[Deployment]):
     """

    total: int
    deployments: list[Deployment]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.deployment import Deployment # noqa: PLC0415
        total = self.total

        deployments = []
        for deployments_item_data in self.deployments:
            deployments_item = deployments_item_data.to_dict()
            deployments.append(deployments_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "total": total,
            "deployments": deployments,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.deployment import Deployment # noqa: PLC0415
        d = dict(src_dict)
        total = d.pop("total")

        deployments = []
        _deployments = d.pop("deployments")
        for deployments_item_data in (_deployments):
            deployments_item = Deployment.from_dict(deployments_item_data)



            deployments.append(deployments_item)


        deployments_list = cls(
            total=total,
            deployments=deployments,
        )


        deployments_list.additional_properties = d
        return deployments_list

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
