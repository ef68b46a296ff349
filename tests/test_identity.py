"""Who is calling: the account from the access key id, the region from the SigV4 credential scope.
Resources of one (account, region) are invisible from every other."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from kiln.identity import DEFAULT_ACCOUNT, DEFAULT_REGION, Identity, identify

OTHER_ACCOUNT = "210987654321"


def _not_found(arn: str) -> str:
    return f"The following resource 'InfrastructureConfiguration' cannot be found: '{arn}'."


def _create(client, name="who") -> str:
    return client.create_infrastructure_configuration(name=name, instanceProfileName="p")["infrastructureConfigurationArn"]


def test_create_infrastructure_configuration_twelve_digit_access_key_is_the_account(backend):
    mine = backend.client(access_key="111122223333")
    arn = _create(mine)
    assert arn == "arn:aws:imagebuilder:us-east-1:111122223333:infrastructure-configuration/who"


def test_get_infrastructure_configuration_invisible_to_another_account(backend):
    mine, theirs = backend.client(access_key="111122223333"), backend.client(access_key=OTHER_ACCOUNT)
    arn = _create(mine)
    with pytest.raises(ClientError) as e:
        theirs.get_infrastructure_configuration(infrastructureConfigurationArn=arn)
    assert e.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": _not_found(arn)}
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert theirs.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"] == []
    assert mine.get_infrastructure_configuration(infrastructureConfigurationArn=arn)["infrastructureConfiguration"]["arn"] == arn


def test_create_infrastructure_configuration_same_name_in_two_accounts(backend):
    a = _create(backend.client(access_key="111122223333"))
    b = _create(backend.client(access_key=OTHER_ACCOUNT))
    assert a != b
    assert b == f"arn:aws:imagebuilder:us-east-1:{OTHER_ACCOUNT}:infrastructure-configuration/who"


def test_create_infrastructure_configuration_other_access_key_uses_default_account(backend):
    arn = _create(backend.client(access_key="AKIAIOSFODNN7EXAMPLE"))
    assert arn == "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/who"
    default = backend.client(access_key="123456789012")
    assert default.get_infrastructure_configuration(infrastructureConfigurationArn=arn)["infrastructureConfiguration"]["arn"] == arn


def test_create_infrastructure_configuration_region_from_the_credential_scope(backend):
    west, east = backend.client(region="us-west-2"), backend.client(region="us-east-1")
    arn = _create(west)
    assert arn == "arn:aws:imagebuilder:us-west-2:123456789012:infrastructure-configuration/who"
    assert east.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"] == []
    with pytest.raises(ClientError) as e:
        east.get_infrastructure_configuration(infrastructureConfigurationArn=arn)
    assert e.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": _not_found(arn)}
    assert [s["arn"] for s in west.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"]] == [arn]


def test_create_infrastructure_configuration_same_name_in_two_regions(backend):
    assert _create(backend.client(region="us-west-2")) != _create(backend.client(region="eu-west-1"))


def test_get_infrastructure_configuration_raw_scope_selects_account_and_region(backend, raw):
    arn = _create(backend.client(access_key="111122223333", region="eu-central-1"))
    q = {"infrastructureConfigurationArn": arn}
    assert raw.get("/GetInfrastructureConfiguration", query=q, access_key="111122223333", region="eu-central-1").status == 200
    assert raw.get("/GetInfrastructureConfiguration", query=q, access_key="111122223333", region="us-east-1").status == 404
    assert raw.get("/GetInfrastructureConfiguration", query=q, access_key=OTHER_ACCOUNT, region="eu-central-1").status == 404


def test_create_infrastructure_configuration_without_authorization_uses_defaults(backend, raw):
    r = raw.put("/CreateInfrastructureConfiguration", auth=False,
                body={"name": "anonymous", "instanceProfileName": "p", "clientToken": "t"})
    assert r.status == 200
    assert r.json["infrastructureConfigurationArn"] == \
        "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/anonymous"


# identify() itself, on Authorization headers a client might send.
def sigv4(key_id: str, region: str = "eu-west-2") -> str:
    return (f"AWS4-HMAC-SHA256 Credential={key_id}/20261126/{region}/imagebuilder/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


@pytest.mark.parametrize("key_id, account", [
    ("210987654321", "210987654321"),
    ("2109876543210", DEFAULT_ACCOUNT),  # 13 digits
    ("21098765432", DEFAULT_ACCOUNT),  # 11
    ("21098765432a", DEFAULT_ACCOUNT),
    ("AKIAIOSFODNN7EXAMPLE", DEFAULT_ACCOUNT),
])
def test_the_account_is_a_12_digit_access_key_id(key_id, account):
    assert identify(sigv4(key_id)) == Identity(account, "eu-west-2")


def test_the_default_account_can_be_chosen():
    assert identify(sigv4("testing"), "999999999999") == Identity("999999999999", "eu-west-2")


@pytest.mark.parametrize("authorization", [None, "", "Bearer abc", "AWS4-HMAC-SHA256 Credential=only/two"])
def test_without_a_credential_scope_the_defaults_answer(authorization):
    assert identify(authorization) == Identity(DEFAULT_ACCOUNT, DEFAULT_REGION)


def test_the_first_well_formed_scope_counts():
    assert identify("Credential=/x, " + sigv4("210987654321", "ap-south-1")) == Identity("210987654321", "ap-south-1")
