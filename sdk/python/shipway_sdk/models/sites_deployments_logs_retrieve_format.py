from enum import StrEnum

class SitesDeploymentsLogsRetrieveFormat(StrEnum):
    JSON = "json"
    TXT = "txt"

    def __str__(self) -> str:
        return str(self.value)
