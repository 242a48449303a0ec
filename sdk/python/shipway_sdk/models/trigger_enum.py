from enum import StrEnum

class TriggerEnum(StrEnum):
    API = "api"
    HOOK = "hook"
    PUSH = "push"
    REDEPLOY = "redeploy"
    UPLOAD = "upload"

    def __str__(self) -> str:
        return str(self.value)
