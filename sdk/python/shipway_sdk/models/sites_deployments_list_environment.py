from enum import StrEnum

class SitesDeploymentsListEnvironment(StrEnum):
    PREVIEW = "preview"
    PRODUCTION = "production"

    def __str__(self) -> str:
        return str(self.value)
