"""boto3's retry modes against failure rules, in-process and against a real `kiln serve`
(the `backend` fixture): a throttle the retries absorb, a 503 they cannot, a token-bucket
rate limit throttling a burst, and what botocore does with CallRateLimitExceededException.

Note on CallRateLimitExceededException (429): the Image Builder model lists it among the errors
of 72 of the 77 operations and does not mark it retryable, and botocore's standard and adaptive
modes retry a 429 only when its code is a throttling code they know (TooManyRequestsException,
ThrottlingException, ...) or is not one the operation models. So, as against AWS, those modes
hand CallRateLimitExceededException to the caller at once on e.g. ListImages, retry it on
ListTagsForResource (whose model lacks it), and the legacy mode (boto3's default) retries any 429.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.faults.conftest import retrying
from tests.support.errors import raises

INFRA = "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/"

# The rules do not touch the store: in-process and the real server, not the PostgreSQL run again.
pytestmark = pytest.mark.parametrize("backend", ["inprocess", "server"], indirect=True)


def test_standard_retries_absorb_a_throttle_on_the_next_two_calls(backend, control):
    added = control.add_faults(operation="ListImages", error="TooManyRequestsException", count=2)
    assert added[0]["remaining"] == 2
    ib = retrying(backend, "standard", attempts=3)
    response = ib.list_images()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert response["imageVersionList"] == []
    assert control.faults() == []  # spent: the rule is gone
    assert ib.list_images()["ResponseMetadata"]["RetryAttempts"] == 0


def test_a_persistent_503_exhausts_the_retries(backend, control):
    control.add_faults(operation="ListImages", error="ServiceUnavailableException")
    ib = retrying(backend, "standard", attempts=3)
    with raises("ServiceUnavailableException", "The service is unable to process your request at this time.") as info:
        ib.list_images()
    meta = info.value.response["ResponseMetadata"]
    assert (meta["HTTPStatusCode"], meta["RetryAttempts"], meta["MaxAttemptsReached"]) == (503, 2, True)
    assert "(reached max retries: 2)" in str(info.value)
    assert [r["fired"] for r in control.faults()] == [3]  # three attempts, three 503s
    assert ib.list_components()["ResponseMetadata"]["RetryAttempts"] == 0  # other operations untouched


def test_adaptive_retries_absorb_a_throttle_and_exhaust_on_a_persistent_500(backend, control):
    control.add_faults(operation="CreateInfrastructureConfiguration", error="TooManyRequestsException", count=2)
    ib = retrying(backend, "adaptive", attempts=3)
    made = ib.create_infrastructure_configuration(name="adaptive", instanceProfileName="p")
    assert made["infrastructureConfigurationArn"] == INFRA + "adaptive"
    assert made["ResponseMetadata"]["RetryAttempts"] == 2
    control.add_faults(operation="GetInfrastructureConfiguration", error="ServiceException")
    with raises("ServiceException", "An internal error has occurred.") as info:
        ib.get_infrastructure_configuration(infrastructureConfigurationArn=INFRA + "adaptive")
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 2


def test_legacy_retries_absorb_call_rate_limit_exceeded(backend, control):
    control.add_faults(operation="ListImages", error="CallRateLimitExceededException", count=2)
    response = retrying(backend, "legacy", attempts=3).list_images()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_standard_and_adaptive_hand_call_rate_limit_exceeded_to_the_caller_where_the_model_names_it(
        backend, control, mode):
    control.add_faults(operation="ListImages", error="CallRateLimitExceededException", count=2)
    with raises("CallRateLimitExceededException", "Rate exceeded", 429) as info:
        retrying(backend, mode, attempts=3).list_images()
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert [r["remaining"] for r in control.faults()] == [1]


def test_standard_retries_take_call_rate_limit_exceeded_where_the_model_lacks_it(backend, control):
    ib = retrying(backend, "standard", attempts=3)
    arn = ib.create_infrastructure_configuration(name="tagged", instanceProfileName="p",
                                                 tags={"team": "a"})["infrastructureConfigurationArn"]
    control.add_faults(operation="ListTagsForResource", error="CallRateLimitExceededException", count=2)
    response = ib.list_tags_for_resource(resourceArn=arn)
    assert (response["tags"], response["ResponseMetadata"]["RetryAttempts"]) == ({"team": "a"}, 2)


def test_a_rate_limit_throttles_a_burst_per_account_and_operation(backend, control):
    """5 calls a second per account and operation, 3 at once: a burst of 8 gets 3 through."""
    control.add_faults(operation="ListImages", rate=0.2, burst=3)
    ib = backend.client()  # one attempt per call: every throttle is seen
    answers = []
    for _ in range(8):
        try:
            ib.list_images()
            answers.append(200)
        except ClientError as e:
            assert e.response["Error"] == {"Code": "CallRateLimitExceededException", "Message": "Rate exceeded"}
            answers.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
    assert answers == [200] * 3 + [429] * 5
    # Another operation, and another account, have buckets of their own.
    assert ib.list_components()["componentVersionList"] == []
    assert backend.client(access_key="111122223333").list_images()["imageVersionList"] == []
    assert [(r["error"], r["burst"], r["fired"]) for r in control.faults()] == [("CallRateLimitExceededException", 3, 5)]


def test_adaptive_retries_ride_out_a_rate_limit(backend, control):
    """Adaptive mode retries the throttles and slows itself down: every call of a burst succeeds."""
    control.add_faults(operation="ListComponents", rate=10, burst=1, error="TooManyRequestsException")
    ib = retrying(backend, "adaptive", attempts=10)
    retries = [ib.list_components()["ResponseMetadata"]["RetryAttempts"] for _ in range(6)]
    assert sum(retries) >= 1
    assert control.faults()[0]["fired"] == sum(retries)
