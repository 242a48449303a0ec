from enum import StrEnum

class TypeEnum(StrEnum):
    BRANCH = "branch"
    COMMIT = "commit"
    TAG = "tag"

    def __str__(self) -> str:
        return str(self.value)
