from enum import StrEnum

class ScopeEnum(StrEnum):
    ALL = "all"
    BUILD = "build"
    RUNTIME = "runtime"

    def __str__(self) -> str:
        return str(self.value)
