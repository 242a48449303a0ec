from enum import StrEnum

class VariableEnvironmentEnum(StrEnum):
    ALL = "all"
    PREVIEW = "preview"
    PRODUCTION = "production"

    def __str__(self) -> str:
        return str(self.value)
