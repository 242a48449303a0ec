from enum import StrEnum

class DefaultAdapterEnum(StrEnum):
    SSR = "ssr"
    STATIC = "static"

    def __str__(self) -> str:
        return str(self.value)
