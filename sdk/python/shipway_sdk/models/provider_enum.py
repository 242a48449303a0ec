from enum import StrEnum

class ProviderEnum(StrEnum):
    GITEA = "gitea"
    GITHUB = "github"
    GITLAB = "gitlab"

    def __str__(self) -> str:
        return str(self.value)
