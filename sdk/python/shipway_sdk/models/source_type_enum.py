from enum import StrEnum

class SourceTypeEnum(StrEnum):
    UPLOAD = "upload"
    VCS = "vcs"

    def __str__(self) -> str:
        return str(self.value)
