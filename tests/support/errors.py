"""Asserting an API error: the code, the whole message and the HTTP status (from the model)."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from tests.support.shapes import error_status


@contextmanager
def raises(code: str, message: str, status: int | None = None):
    """`with raises("ResourceNotFoundException", "The following ..."):` around one boto3 call.
    The status defaults to the one the model gives the error shape."""
    with pytest.raises(ClientError) as info:
        yield info
    response = info.value.response
    assert response["Error"]["Code"] == code, response["Error"]
    assert response["Error"]["Message"] == message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == (status if status is not None else error_status(code))
