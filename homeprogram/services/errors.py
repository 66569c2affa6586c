"""Errors services raise; views turn them into field messages or problem details."""


class ServiceError(Exception):
    """A request that cannot be carried out; nothing was changed."""


class ValidationFailed(ServiceError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(ServiceError):
    """The thing does not exist or the user may not see it (both answer 404)."""


class Conflict(ServiceError):
    pass
