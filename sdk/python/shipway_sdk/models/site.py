from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.access_enum import AccessEnum
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.site_links import SiteLinks





T = TypeVar("T", bound="Site")



@_attrs_define
class Site:
    """ A site as the API shows it (docs/api.md, "Sites").

        Attributes:
            id (str):
            name (str):
            team_id (str):
            framework (str):
            deployment_id (None | str):
            url (str):
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            links (SiteLinks): The site's collections, so the browsable API can be walked.
            adapter (str | Unset):
            build_runtime (str | Unset):
            install_command (str | Unset):
            build_command (str | Unset):
            output_directory (str | Unset):
            fallback_file (str | Unset):
            start_command (str | Unset): ssr: what starts the server, run in the packaged server's directory (the
                framework's default when omitted).
            root_directory (str | Unset):
            timeout (int | Unset):
            keep_deployments (int | None | Unset): Ready deployments kept besides the active one and each branch's newest
                preview; older ones are deleted. null: the platform's default (SHIPWAY_KEEP_DEPLOYMENTS).
            specification (str | Unset):
            enabled (bool | Unset):
            access (AccessEnum | Unset): * `public` - Anyone, everywhere
                * `previews` - Anyone on production; team members on deployment previews
                * `team` - Only team members, everywhere
     """

    id: str
    name: str
    team_id: str
    framework: str
    deployment_id: None | str
    url: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    links: SiteLinks
    adapter: str | Unset = UNSET
    build_runtime: str | Unset = UNSET
    install_command: str | Unset = UNSET
    build_command: str | Unset = UNSET
    output_directory: str | Unset = UNSET
    fallback_file: str | Unset = UNSET
    start_command: str | Unset = UNSET
    root_directory: str | Unset = UNSET
    timeout: int | Unset = UNSET
    keep_deployments: int | None | Unset = UNSET
    specification: str | Unset = UNSET
    enabled: bool | Unset = UNSET
    access: AccessEnum | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.site_links import SiteLinks # noqa: PLC0415
        id = self.id

        name = self.name

        team_id = self.team_id

        framework = self.framework

        deployment_id: None | str
        deployment_id = self.deployment_id

        url = self.url

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        links = self.links.to_dict()

        adapter = self.adapter

        build_runtime = self.build_runtime

        install_command = self.install_command

        build_command = self.build_command

        output_directory = self.output_directory

        fallback_file = self.fallback_file

        start_command = self.start_command

        root_directory = self.root_directory

        timeout = self.timeout

        keep_deployments: int | None | Unset
        if isinstance(self.keep_deployments, Unset):
            keep_deployments = UNSET
        else:
            keep_deployments = self.keep_deployments

        specification = self.specification

        enabled = self.enabled

        access: str | Unset = UNSET
        if not isinstance(self.access, Unset):
            access = self.access.value



        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "name": name,
            "teamId": team_id,
            "framework": framework,
            "deploymentId": deployment_id,
            "url": url,
            "createdAt": created_at,
            "updatedAt": updated_at,
            "links": links,
        })
        if adapter is not UNSET:
            field_dict["adapter"] = adapter
        if build_runtime is not UNSET:
            field_dict["buildRuntime"] = build_runtime
        if install_command is not UNSET:
            field_dict["installCommand"] = install_command
        if build_command is not UNSET:
            field_dict["buildCommand"] = build_command
        if output_directory is not UNSET:
            field_dict["outputDirectory"] = output_directory
        if fallback_file is not UNSET:
            field_dict["fallbackFile"] = fallback_file
        if start_command is not UNSET:
            field_dict["startCommand"] = start_command
        if root_directory is not UNSET:
            field_dict["rootDirectory"] = root_directory
        if timeout is not UNSET:
            field_dict["timeout"] = timeout
        if keep_deployments is not UNSET:
            field_dict["keepDeployments"] = keep_deployments
        if specification is not UNSET:
            field_dict["specification"] = specification
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if access is not UNSET:
            field_dict["access"] = access

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.site_links import SiteLinks # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        team_id = d.pop("teamId")

        framework = d.pop("framework")

        def _parse_deployment_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        deployment_id = _parse_deployment_id(d.pop("deploymentId"))


        url = d.pop("url")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))




        links = SiteLinks.from_dict(d.pop("links"))




        adapter = d.pop("adapter", UNSET)

        build_runtime = d.pop("buildRuntime", UNSET)

        install_command = d.pop("installCommand", UNSET)

        build_command = d.pop("buildCommand", UNSET)

        output_directory = d.pop("outputDirectory", UNSET)

        fallback_file = d.pop("fallbackFile", UNSET)

        start_command = d.pop("startCommand", UNSET)

        root_directory = d.pop("rootDirectory", UNSET)

        timeout = d.pop("timeout", UNSET)

        def _parse_keep_deployments(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        keep_deployments = _parse_keep_deployments(d.pop("keepDeployments", UNSET))


        specification = d.pop("specification", UNSET)

        enabled = d.pop("enabled", UNSET)

        _access = d.pop("access", UNSET)
        access: AccessEnum | Unset
        if isinstance(_access,  Unset):
            access = UNSET
        else:
            access = AccessEnum(_access)




        site = cls(
            id=id,
            name=name,
            team_id=team_id,
            framework=framework,
            deployment_id=deployment_id,
            url=url,
            created_at=created_at,
            updated_at=updated_at,
            links=links,
            adapter=adapter,
            build_runtime=build_runtime,
            install_command=install_command,
            build_command=build_command,
            output_directory=output_directory,
            fallback_file=fallback_file,
            start_command=start_command,
            root_directory=root_directory,
            timeout=timeout,
            keep_deployments=keep_deployments,
            specification=specification,
            enabled=enabled,
            access=access,
        )


        site.additional_properties = d
        return site

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
