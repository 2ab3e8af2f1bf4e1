"""Exception types. Every error names the input (file, config key, URL, backend) it is about."""


class VidrewardError(Exception):
    """Base class for all errors vidreward raises on bad input."""


class ConfigError(VidrewardError):
    """The configuration is invalid (unknown key, wrong type, missing clip...)."""


class ClipError(VidrewardError):
    """An expert clip cannot be fetched, read or trimmed."""


class RewardCodeError(VidrewardError):
    """Reward code failed validation; ``check`` names the failed check."""

    def __init__(self, message: str, check: str = "validation"):
        super().__init__(message)
        self.check = check


class CritiqueError(VidrewardError):
    """A critic's output cannot be parsed or the critique stage cannot proceed."""


class LMError(VidrewardError):
    """A language-model request failed (network, cache miss in replay mode, bad answer)."""


class RatingError(VidrewardError):
    """A human rating page, its key, a ratings file or a submitted rating is invalid."""
