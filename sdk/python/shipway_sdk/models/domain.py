from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.domain_status_enum import DomainStatusEnum
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.domain_record import DomainRecord





T = TypeVar("T", bound="Domain")



@_attrs_define
class Domain:
    """ A custom domain as the API shows it, with the DNS records that verify it.

        Attributes:
            id (str):
            site_id (str):
            domain (str): Lowercase ASCII (IDNA) form.
            status (DomainStatusEnum): * `pending` - Pending
                * `verified` - Verified
                * `taken` - Taken
                * `lost` - Lost
            verified (bool):
            verified_at (datetime.datetime | None):
            last_checked_at (datetime.datetime | None):
            last_error (None | str): Why the last check failed (null when it passed or none ran).
            records (list[DomainRecord]): Add the TXT record, and the CNAME or the A/AAAA records, then verify.
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
     """

    id: str
    site_id: str
    domain: str
    status: DomainStatusEnum
    verified: bool
    verified_at: datetime.datetime | None
    last_checked_at: datetime.datetime | None
    last_error: None | str
    records: list[DomainRecord]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.domain_record import DomainRecord # noqa: PLC0415
        id = self.id

        site_id = self.site_id

        domain = self.domain

        status = self.status.value

        verified = self.verified

        verified_at: None | str
        if isinstance(self.verified_at, datetime.datetime):
            verified_at = self.verified_at.isoformat()
        else:
            verified_at = self.verified_at

        last_checked_at: None | str
        if isinstance(self.last_checked_at, datetime.datetime):
            last_checked_at = self.last_checked_at.isoformat()
        else:
            last_checked_at = self.last_checked_at

        last_error: None | str
        last_error = self.last_error

        records = []
        for records_item_data in self.records:
            records_item = records_item_data.to_dict()
            records.append(records_item)



        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "siteId": site_id,
            "domain": domain,
            "status": status,
            "verified": verified,
            "verifiedAt": verified_at,
            "lastCheckedAt": last_checked_at,
            "lastError": last_error,
            "records": records,
            "createdAt": created_at,
            "updatedAt": updated_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.domain_record import DomainRecord # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        site_id = d.pop("siteId")

        domain = d.pop("domain")

        status = DomainStatusEnum(d.pop("status"))




        verified = d.pop("verified")

        def _parse_verified_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                verified_at_type_0 = datetime.datetime.fromisoformat(data)



                return verified_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        verified_at = _parse_verified_at(d.pop("verifiedAt"))


        def _parse_last_checked_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_checked_at_type_0 = datetime.datetime.fromisoformat(data)



                return last_checked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_checked_at = _parse_last_checked_at(d.pop("lastCheckedAt"))


        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("lastError"))


        records = []
        _records = d.pop("records")
        for records_item_data in (_records):
            records_item = DomainRecord.from_dict(records_item_data)



            records.append(records_item)


        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))




        domain = cls(
            id=id,
            site_id=site_id,
            domain=domain,
            status=status,
            verified=verified,
            verified_at=verified_at,
            last_checked_at=last_checked_at,
            last_error=last_error,
            records=records,
            created_at=created_at,
            updated_at=updated_at,
        )


        domain.additional_properties = d
        return domain

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
