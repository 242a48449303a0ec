"""Why a deployment failed: a stable code for programs, one sentence for people.

The API's `errorCode`, the dashboard, the build log and tests all use these codes; the
sentence lives only here.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    BUILD_TIMEOUT = "build_timeout"
    OUT_OF_MEMORY = "out_of_memory"
    COMMAND_FAILED = "command_failed"
    OUTPUT_MISSING = "output_missing"
    OUTPUT_TOO_LARGE = "output_too_large"
    TOO_MANY_OUTPUT_FILES = "too_many_output_files"
    OUTPUT_FILE_TOO_LARGE = "output_file_too_large"
    RULES_INVALID = "rules_invalid"
    IMAGE_MISSING = "image_missing"
    DOCKER_UNAVAILABLE = "docker_unavailable"
    BUILD_NETWORK_UNAVAILABLE = "build_network_unavailable"
    SOURCE_INVALID = "source_invalid"
    SOURCE_REFUSED = "source_refused"
    SOURCE_TOO_LARGE = "source_too_large"
    CANCELED = "canceled"
    SUPERSEDED = "superseded"
    BUILD_SKIPPED = "build_skipped"
    INTERNAL = "internal"


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.BUILD_TIMEOUT: "The build ran longer than the site's timeout and was stopped.",
    ErrorCode.OUT_OF_MEMORY: "The build ran out of memory; choose a larger specification.",
    ErrorCode.COMMAND_FAILED: "A build command exited with an error; the log shows which.",
    ErrorCode.OUTPUT_MISSING: "The build left no files in the output directory.",
    ErrorCode.OUTPUT_TOO_LARGE: (
        "The build's output is larger than this server allows (SHIPWAY_OUTPUT_MAX_BYTES)."
    ),
    ErrorCode.TOO_MANY_OUTPUT_FILES: (
        "The build's output has more files, directories and links than this server allows "
        "(SHIPWAY_OUTPUT_MAX_FILES)."
    ),
    ErrorCode.OUTPUT_FILE_TOO_LARGE: (
        "A file of the build's output is larger than this server allows "
        "(SHIPWAY_OUTPUT_MAX_FILE_BYTES)."
    ),
    ErrorCode.RULES_INVALID: "The _redirects or _headers file has a line Shipway cannot read.",
    ErrorCode.IMAGE_MISSING: "The build's runtime image is not installed on this server.",
    ErrorCode.BUILD_NETWORK_UNAVAILABLE: (
        "The build worker could not set up the isolated network builds run on."
    ),
    ErrorCode.DOCKER_UNAVAILABLE: (
        "No Docker engine answers on the build worker; builds run only in containers."
    ),
    ErrorCode.SOURCE_INVALID: "The source could not be read.",
    ErrorCode.SOURCE_REFUSED: "The source's address is one Shipway does not connect to.",
    ErrorCode.SOURCE_TOO_LARGE: "The source is larger than this server accepts.",
    ErrorCode.CANCELED: "The deployment was canceled.",
    ErrorCode.SUPERSEDED: "A newer push to the same branch replaced it before it was built.",
    ErrorCode.BUILD_SKIPPED: (
        "The push touched none of the site's watched paths; nothing was built."
    ),
    ErrorCode.INTERNAL: "Shipway failed while building; the log has details.",
}


def message_for(code: str) -> str:
    """The sentence for a code ("" for an empty or unknown one)."""
    try:
        return MESSAGES[ErrorCode(code)]
    except ValueError:
        return ""


class BuildError(Exception):
    """A build failure with its code and, optionally, a more specific sentence."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        self.code = code
        self.detail = detail or MESSAGES[code]
        super().__init__(self.detail)
