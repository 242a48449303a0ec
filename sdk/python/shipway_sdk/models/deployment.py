from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.deployment_environment_enum import DeploymentEnvironmentEnum
from ..models.deployment_status_enum import DeploymentStatusEnum
from ..models.source_type_enum import SourceTypeEnum
from ..models.trigger_enum import TriggerEnum
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.runtime import Runtime





T = TypeVar("T", bound="Deployment")



@_attrs_define
class Deployment:
    """ A deployment as the API shows it (docs/api.md, "Deployments").

        Attributes:
            id (str):
            site_id (str):
            status (DeploymentStatusEnum): * `waiting` - Waiting
                * `processing` - Processing
                * `building` - Building
                * `ready` - Ready
                * `failed` - Failed
                * `canceled` - Canceled
            source_type (SourceTypeEnum): * `upload` - Upload
                * `vcs` - Git repository
            source_size (int):
            output_size (int):
            framework (str):
            adapter (str): What the build made: "static" files or an "ssr" server.
            build_runtime (str):
            build_started_at (datetime.datetime | None):
            build_ended_at (datetime.datetime | None):
            build_duration (float | None): Seconds.
            activate (bool):
            active (bool):
            url (str):
            error_code (None | str):
            log_size (int):
            repository (str):
            reference (str):
            commit_hash (str):
            commit_message (str):
            reference_type (str):
            environment (DeploymentEnvironmentEnum): * `production` - Production
                * `preview` - Preview
            branch (str):
            branch_url (None | str): A preview's branch address: the branch's newest ready preview.
            trigger (TriggerEnum): * `upload` - Upload
                * `api` - API
                * `push` - Git push
                * `hook` - Deploy hook
                * `redeploy` - Redeploy
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            runtime (None | Runtime):
            queue_position (int | None): A waiting deployment's place among its team's waiting builds (1: next); null once
                it is building or done.
     """

    id: str
    site_id: str
    status: DeploymentStatusEnum
    source_type: SourceTypeEnum
    source_size: int
    output_size: int
    framework: str
    adapter: str
    build_runtime: str
    build_started_at: datetime.datetime | None
    build_ended_at: datetime.datetime | None
    build_duration: float | None
    activate: bool
    active: bool
    url: str
    error_code: None | str
    log_size: int
    repository: str
    reference: str
    commit_hash: str
    commit_message: str
    reference_type: str
    environment: DeploymentEnvironmentEnum
    branch: str
    branch_url: None | str
    trigger: TriggerEnum
    created_at: datetime.datetime
    updated_at: datetime.datetime
    runtime: None | Runtime
    queue_position: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.runtime import Runtime # noqa: PLC0415
        id = self.id

        site_id = self.site_id

        status = self.status.value

        source_type = self.source_type.value

        source_size = self.source_size

        output_size = self.output_size

        framework = self.framework

        adapter = self.adapter

        build_runtime = self.build_runtime

        build_started_at: None | str
        if isinstance(self.build_started_at, datetime.datetime):
            build_started_at = self.build_started_at.isoformat()
        else:
            build_started_at = self.build_started_at

        build_ended_at: None | str
        if isinstance(self.build_ended_at, datetime.datetime):
            build_ended_at = self.build_ended_at.isoformat()
        else:
            build_ended_at = self.build_ended_at

        build_duration: float | None
        build_duration = self.build_duration

        activate = self.activate

        active = self.active

        url = self.url

        error_code: None | str
        error_code = self.error_code

        log_size = self.log_size

        repository = self.repository

        reference = self.reference

        commit_hash = self.commit_hash

        commit_message = self.commit_message

        reference_type = self.reference_type

        environment = self.environment.value

        branch = self.branch

        branch_url: None | str
        branch_url = self.branch_url

        trigger = self.trigger.value

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        runtime: dict[str, Any] | None
        if isinstance(self.runtime, Runtime):
            runtime = self.runtime.to_dict()
        else:
            runtime = self.runtime

        queue_position: int | None
        queue_position = self.queue_position


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "siteId": site_id,
            "status": status,
            "sourceType": source_type,
            "sourceSize": source_size,
            "outputSize": output_size,
            "framework": framework,
            "adapter": adapter,
            "buildRuntime": build_runtime,
            "buildStartedAt": build_started_at,
            "buildEndedAt": build_ended_at,
            "buildDuration": build_duration,
            "activate": activate,
            "active": active,
            "url": url,
            "errorCode": error_code,
            "logSize": log_size,
            "repository": repository,
            "reference": reference,
            "commitHash": commit_hash,
            "commitMessage": commit_message,
            "referenceType": reference_type,
            "environment": environment,
            "branch": branch,
            "branchUrl": branch_url,
            "trigger": trigger,
            "createdAt": created_at,
            "updatedAt": updated_at,
            "runtime": runtime,
            "queuePosition": queue_position,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.runtime import Runtime # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        site_id = d.pop("siteId")

        status = DeploymentStatusEnum(d.pop("status"))




        source_type = SourceTypeEnum(d.pop("sourceType"))




        source_size = d.pop("sourceSize")

        output_size = d.pop("outputSize")

        framework = d.pop("framework")

        adapter = d.pop("adapter")

        build_runtime = d.pop("buildRuntime")

        def _parse_build_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                build_started_at_type_0 = datetime.datetime.fromisoformat(data)



                return build_started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        build_started_at = _parse_build_started_at(d.pop("buildStartedAt"))


        def _parse_build_ended_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                build_ended_at_type_0 = datetime.datetime.fromisoformat(data)



                return build_ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        build_ended_at = _parse_build_ended_at(d.pop("buildEndedAt"))


        def _parse_build_duration(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        build_duration = _parse_build_duration(d.pop("buildDuration"))


        activate = d.pop("activate")

        active = d.pop("active")

        url = d.pop("url")

        def _parse_error_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_code = _parse_error_code(d.pop("errorCode"))


        log_size = d.pop("logSize")

        repository = d.pop("repository")

        reference = d.pop("reference")

        commit_hash = d.pop("commitHash")

        commit_message = d.pop("commitMessage")

        reference_type = d.pop("referenceType")

        environment = DeploymentEnvironmentEnum(d.pop("environment"))




        branch = d.pop("branch")

        def _parse_branch_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        branch_url = _parse_branch_url(d.pop("branchUrl"))


        trigger = TriggerEnum(d.pop("trigger"))




        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))




        def _parse_runtime(data: object) -> None | Runtime:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                runtime_type_1 = Runtime.from_dict(data)



                return runtime_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Runtime, data)

        runtime = _parse_runtime(d.pop("runtime"))


        def _parse_queue_position(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        queue_position = _parse_queue_position(d.pop("queuePosition"))


        deployment = cls(
            id=id,
            site_id=site_id,
            status=status,
            source_type=source_type,
            source_size=source_size,
            output_size=output_size,
            framework=framework,
            adapter=adapter,
            build_runtime=build_runtime,
            build_started_at=build_started_at,
            build_ended_at=build_ended_at,
            build_duration=build_duration,
            activate=activate,
            active=active,
            url=url,
            error_code=error_code,
            log_size=log_size,
            repository=repository,
            reference=reference,
            commit_hash=commit_hash,
            commit_message=commit_message,
            reference_type=reference_type,
            environment=environment,
            branch=branch,
            branch_url=branch_url,
            trigger=trigger,
            created_at=created_at,
            updated_at=updated_at,
            runtime=runtime,
            queue_position=queue_position,
        )


        deployment.additional_properties = d
        return deployment

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
