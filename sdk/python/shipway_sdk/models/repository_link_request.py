from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.provider_enum import ProviderEnum
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="RepositoryLinkRequest")



@_attrs_define
class RepositoryLinkRequest:
    """ PUT /v1/sites/{siteId}/repository (docs/api.md, "Git").

        Attributes:
            url (str): The repository's http(s) clone address.
            provider (ProviderEnum | Unset): * `github` - github
                * `gitlab` - gitlab
                * `gitea` - gitea Default: ProviderEnum.GITHUB.
            production_branch (str | Unset):  Default: 'main'.
            token (str | Unset): For private repositories and commit statuses; omitted keeps it, '' removes it.
            watch_paths (list[str] | Unset):
            build_tags (bool | Unset):
            remove_deleted_branches (bool | Unset):
     """

    url: str
    provider: ProviderEnum | Unset = ProviderEnum.GITHUB
    production_branch: str | Unset = 'main'
    token: str | Unset = UNSET
    watch_paths: list[str] | Unset = UNSET
    build_tags: bool | Unset = UNSET
    remove_deleted_branches: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        url = self.url

        provider: str | Unset = UNSET
        if not isinstance(self.provider, Unset):
            provider = self.provider.value


        production_branch = self.production_branch

        token = self.token

        watch_paths: list[str] | Unset = UNSET
        if not isinstance(self.watch_paths, Unset):
            watch_paths = self.watch_paths



        build_tags = self.build_tags

        remove_deleted_branches = self.remove_deleted_branches


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "url": url,
        })
        if provider is not UNSET:
            field_dict["provider"] = provider
        if production_branch is not UNSET:
            field_dict["productionBranch"] = production_branch
        if token is not UNSET:
            field_dict["token"] = token
        if watch_paths is not UNSET:
            field_dict["watchPaths"] = watch_paths
        if build_tags is not UNSET:
            field_dict["buildTags"] = build_tags
        if remove_deleted_branches is not UNSET:
            field_dict["removeDeletedBranches"] = remove_deleted_branches

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        _provider = d.pop("provider", UNSET)
        provider: ProviderEnum | Unset
        if isinstance(_provider,  Unset):
            provider = UNSET
        else:
            provider = ProviderEnum(_provider)




        production_branch = d.pop("productionBranch", UNSET)

        token = d.pop("token", UNSET)

        watch_paths = cast(list[str], d.pop("watchPaths", UNSET))


        build_tags = d.pop("buildTags", UNSET)

        remove_deleted_branches = d.pop("removeDeletedBranches", UNSET)

        repository_link_request = cls(
            url=url,
            provider=provider,
            production_branch=production_branch,
            token=token,
            watch_paths=watch_paths,
            build_tags=build_tags,
            remove_deleted_branches=remove_deleted_branches,
        )


        repository_link_request.additional_properties = d
        return repository_link_request

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
