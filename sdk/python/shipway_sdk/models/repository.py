from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="Repository")



@_attrs_define
class Repository:
    """ A linked repository; `webhookSecret` only in the answer that made the secret.

        Attributes:
            url (str):
            provider (str):
            production_branch (str):
            has_token (bool):
            watch_paths (list[str]):
            build_tags (bool):
            remove_deleted_branches (bool):
            webhook_url (str):
            webhook_secret (None | str):
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
     """

    url: str
    provider: str
    production_branch: str
    has_token: bool
    watch_paths: list[str]
    build_tags: bool
    remove_deleted_branches: bool
    webhook_url: str
    webhook_secret: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        url = self.url

        provider = self.provider

        production_branch = self.production_branch

        has_token = self.has_token

        watch_paths = self.watch_paths



        build_tags = self.build_tags

        remove_deleted_branches = self.remove_deleted_branches

        webhook_url = self.webhook_url

        webhook_secret: None | str
        webhook_secret = self.webhook_secret

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "url": url,
            "provider": provider,
            "productionBranch": production_branch,
            "hasToken": has_token,
            "watchPaths": watch_paths,
            "buildTags": build_tags,
            "removeDeletedBranches": remove_deleted_branches,
            "webhookUrl": webhook_url,
            "webhookSecret": webhook_secret,
            "createdAt": created_at,
            "updatedAt": updated_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        provider = d.pop("provider")

        production_branch = d.pop("productionBranch")

        has_token = d.pop("hasToken")

        watch_paths = cast(list[str], d.pop("watchPaths"))


        build_tags = d.pop("buildTags")

        remove_deleted_branches = d.pop("removeDeletedBranches")

        webhook_url = d.pop("webhookUrl")

        def _parse_webhook_secret(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        webhook_secret = _parse_webhook_secret(d.pop("webhookSecret"))


        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))




        repository = cls(
            url=url,
            provider=provider,
            production_branch=production_branch,
            has_token=has_token,
            watch_paths=watch_paths,
            build_tags=build_tags,
            remove_deleted_branches=remove_deleted_branches,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            created_at=created_at,
            updated_at=updated_at,
        )


        repository.additional_properties = d
        return repository

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
