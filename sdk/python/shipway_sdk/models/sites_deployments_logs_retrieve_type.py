from enum import StrEnum

class SitesDeploymentsLogsRetrieveType(StrEnum):
    BUILD = "build"
    RUNTIME = "runtime"

    def __str__(self) -> str:
        return str(self.value)
