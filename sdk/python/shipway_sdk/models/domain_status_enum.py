from enum import StrEnum

class DomainStatusEnum(StrEnum):
    LOST = "lost"
    PENDING = "pending"
    TAKEN = "taken"
    VERIFIED = "verified"

    def __str__(self) -> str:
        return str(self.value)
