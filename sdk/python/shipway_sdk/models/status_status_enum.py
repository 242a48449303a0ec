from enum import StrEnum

class StatusStatusEnum(StrEnum):
    CANCELED = "canceled"

    def __str__(self) -> str:
        return str(self.value)
