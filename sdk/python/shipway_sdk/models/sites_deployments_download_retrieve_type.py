from enum import StrEnum

class SitesDeploymentsDownloadRetrieveType(StrEnum):
    OUTPUT = "output"
    SOURCE = "source"

    def __str__(self) -> str:
        return str(self.value)
