from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="FrameworkAdapter")



@_attrs_define
class FrameworkAdapter:
    """ 
        Attributes:
            key (str): "static" or "ssr".
            install_command (str):
            build_command (str):
            output_directory (str):
            fallback_file (str):
            start_command (str):
     """

    key: str
    install_command: str
    build_command: str
    output_directory: str
    fallback_file: str
    start_command: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key = self.key

        install_command = self.install_command

        build_command = self.build_command

        output_directory = self.output_directory

        fallback_file = self.fallback_file

        start_command = self.start_command


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key": key,
            "installCommand": install_command,
            "buildCommand": build_command,
            "outputDirectory": output_directory,
            "fallbackFile": fallback_file,
            "startCommand": start_command,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        install_command = d.pop("installCommand")

        build_command = d.pop("buildCommand")

        output_directory = d.pop("outputDirectory")

        fallback_file = d.pop("fallbackFile")

        start_command = d.pop("startCommand")

        framework_adapter = cls(
            key=key,
            install_command=install_command,
            build_command=build_command,
            output_directory=output_directory,
            fallback_file=fallback_file,
            start_command=start_command,
        )


        framework_adapter.additional_properties = d
        return framework_adapter

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
