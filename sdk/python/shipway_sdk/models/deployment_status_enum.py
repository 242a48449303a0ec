from enum import StrEnum

class DeploymentStatusEnum(StrEnum):
    BUILDING = "building"
    CANCELED = "canceled"
    FAILED = "failed"
    PROCESSING = "processing"
    READY = "ready"
    WAITING = "waiting"

    def __str__(self) -> str:
        return str(self.value)
