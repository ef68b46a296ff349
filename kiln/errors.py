"""API errors, one class per error shape in the Image Builder model.

The class name IS the wire error code (`x-amzn-ErrorType`); the HTTP status comes
from the model's `error.httpStatusCode`, so it is written once, here, per shape.
"""
from __future__ import annotations


class ApiError(Exception):
    """Base of every error kiln answers with. Never raised itself."""

    code = "ServiceException"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _error(name: str, status: int) -> type[ApiError]:
    return type(name, (ApiError,), {"code": name, "status": status, "__module__": __name__})


# Status codes as the model states them (`shapes.<Name>.error.httpStatusCode`);
# tests/test_errors.py checks this table against the model.
AccessDeniedException = _error("AccessDeniedException", 403)
CallRateLimitExceededException = _error("CallRateLimitExceededException", 429)
ClientException = _error("ClientException", 400)
DryRunOperationException = _error("DryRunOperationException", 412)
ForbiddenException = _error("ForbiddenException", 403)
IdempotentParameterMismatchException = _error("IdempotentParameterMismatchException", 400)
InvalidPaginationTokenException = _error("InvalidPaginationTokenException", 400)
InvalidParameterCombinationException = _error("InvalidParameterCombinationException", 400)
InvalidParameterException = _error("InvalidParameterException", 400)
InvalidParameterValueException = _error("InvalidParameterValueException", 400)
InvalidRequestException = _error("InvalidRequestException", 400)
InvalidVersionNumberException = _error("InvalidVersionNumberException", 400)
ResourceAlreadyExistsException = _error("ResourceAlreadyExistsException", 400)
ResourceDependencyException = _error("ResourceDependencyException", 400)
ResourceInUseException = _error("ResourceInUseException", 400)
ResourceNotFoundException = _error("ResourceNotFoundException", 404)
ServiceException = _error("ServiceException", 500)
ServiceQuotaExceededException = _error("ServiceQuotaExceededException", 402)
ServiceUnavailableException = _error("ServiceUnavailableException", 503)
TooManyRequestsException = _error("TooManyRequestsException", 429)

# Not modeled shapes: kiln's answer for an operation the model has but kiln does not serve,
# and the front door's answers AWS gives before the service sees a request: a credential
# scoped to something that is no region (as AWS's SigV4 check words it), a body too large.
OperationNotSupportedException = _error("OperationNotSupportedException", 501)
RequestEntityTooLargeException = _error("RequestEntityTooLargeException", 413)
RequestTimeoutException = _error("RequestTimeoutException", 408)
# SigV4's, when kiln checks signatures (kiln/http/sigv4.py); codes and statuses as AWS answers them.
InvalidSignatureException = _error("InvalidSignatureException", 403)
MissingAuthenticationTokenException = _error("MissingAuthenticationTokenException", 403)
UnrecognizedClientException = _error("UnrecognizedClientException", 403)
IncompleteSignatureException = _error("IncompleteSignatureException", 400)
FRONT_DOOR = (OperationNotSupportedException, RequestEntityTooLargeException, RequestTimeoutException,
              InvalidSignatureException,
              MissingAuthenticationTokenException, UnrecognizedClientException, IncompleteSignatureException)

MODELED = {
    cls.code: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, ApiError) and cls is not ApiError and cls not in FRONT_DOOR
}


def invalid_value(param: str, detail: str) -> ApiError:
    """The real service's wording for a bad parameter value."""
    return InvalidParameterValueException(f"The value supplied for parameter '{param}' is not valid. {detail}")
