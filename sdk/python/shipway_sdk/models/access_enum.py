from enum import StrEnum

class AccessEnum(StrEnum):
    PREVIEWS = "previews"
    PUBLIC = "public"
    TEAM = "team"

    def __str__(self) -> str:
        return str(self.value)
