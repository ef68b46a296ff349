"""AMIs that exist: a build's AMIs registered in EC2, lifecycle deletions deregistering
them, and parent images (an AMI id or an `ssm:` parameter) looked up where they live.

kiln plans a build's AMI ids when the build starts (kiln/service/images.py, output_amis).
EC2 chooses its own ids (moto cannot be told one), so when the AMIs are registered kiln
adopts EC2's: every occurrence of its own id in the image (outputResources, the build's
workflow step outputs, its plan) becomes EC2's, and GetImage, ListImageBuildVersions,
the SNS message and lifecycle actions name the AMI that `ec2.describe_images` finds. The
ids kiln replaced are kept in the build's plan (`tl["ec2"]`: kiln's id -> EC2's).
"""
from __future__ import annotations

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from kiln.errors import ServiceUnavailableException, invalid_value
from kiln.integrations import notes

CREATED_BY = {"CreatedBy": "EC2 Image Builder"}  # the tag Image Builder's lifecycle policy looks for
_REGISTERED_STATES = ("DISTRIBUTING", "INTEGRATING", "AVAILABLE", "DEPRECATED", "DISABLED")
_GONE = ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed", "InvalidSnapshot.NotFound")


def _scope(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    return parts[3], parts[4]


def _read(store, arn: str):
    region, account = _scope(arn)
    return store.run(lambda tx: tx.get(arn, "image"), account, region, write=False)


def register(integrations, store, arn: str) -> None:
    """Register in EC2 every AMI of the build that is not registered yet, and adopt EC2's ids."""
    row = _read(store, arn)
    if row is None or row.status not in _REGISTERED_STATES:
        return  # gone, or failed or cancelled before its AMIs were distributed
    tl = row.timeline or {}
    known = dict(tl.get("ec2") or {})
    amis = (row.doc.get("outputResources") or {}).get("amis") or \
        ((tl.get("done") or {}).get("outputResources") or {}).get("amis") or []
    new: dict[str, str] = {}
    try:
        for ami in amis:
            if ami["image"] in known or ami["image"] in known.values():
                continue
            new[ami["image"]] = _register_one(integrations, row, ami)
    finally:
        if new:
            _adopt(store, arn, new)


def _ami_settings(doc: dict, region: str) -> dict:
    for d in (doc.get("distributionConfiguration") or {}).get("distributions") or ():
        if d.get("region") == region:
            return d.get("amiDistributionConfiguration") or {}
    return {}


def _register_one(integrations, row, ami: dict) -> str:
    region, owner = _scope(row.arn)
    account = ami.get("accountId") or owner
    client = integrations.clients.get("ec2", ami["region"], account)
    params = {"Name": ami["name"], "Architecture": "x86_64", "RootDeviceName": "/dev/xvda",
              "VirtualizationType": "hvm"}
    if ami.get("description"):
        params["Description"] = ami["description"]
    image_id = client.register_image(**params)["ImageId"]
    settings = _ami_settings(row.doc, ami["region"])
    recipe = row.doc.get("imageRecipe") or {}
    tags = {**(recipe.get("amiTags") or {}), **(settings.get("amiTags") or {}), **CREATED_BY,
            "Ec2ImageBuilderArn": row.arn}
    client.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    permission = settings.get("launchPermission") or {}
    add = ([{"UserId": u} for u in permission.get("userIds") or ()]
           + [{"Group": g} for g in permission.get("userGroups") or ()]
           + [{"OrganizationArn": o} for o in permission.get("organizationArns") or ()]
           + [{"OrganizationalUnitArn": o} for o in permission.get("organizationalUnitArns") or ()])
    if add and account == owner:  # the owner's AMI; copies in target accounts belong to those accounts
        client.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": add})
    return image_id


def _adopt(store, arn: str, new: dict[str, str]) -> None:
    """The build's AMIs are EC2's now: its document and plan name EC2's ids."""
    region, account = _scope(arn)

    def adopt(tx):
        row = tx.get(arn, "image")
        if row is None or row.timeline is None:
            return
        doc, plan = row.stored_json(), row.stored_timeline() or "{}"
        for old, fresh in new.items():
            doc, plan = doc.replace(old, fresh), plan.replace(old, fresh)
        tl = orjson.loads(plan)
        tl.setdefault("ec2", {}).update(new)
        row.doc, row.timeline = orjson.loads(doc), tl
        tx.save(row)

    store.run(adopt, account, region)


def with_registered_ids(store, arn: str, text: str) -> str:
    """`text` (an SNS message made when the build changed state) naming EC2's AMI ids."""
    row = _read(store, arn)
    for old, fresh in ((row.timeline or {}).get("ec2") or {}).items() if row is not None else ():
        text = text.replace(old, fresh)
    return text


def deregister(integrations, amis: list[dict], snapshots: bool) -> None:
    """A lifecycle DELETE: deregister the AMIs (and delete their snapshots). One already gone is done."""
    for ami in amis:
        client = integrations.clients.get("ec2", ami["region"], ami.get("accountId"))
        found = []
        if snapshots:
            try:
                images = client.describe_images(ImageIds=[ami["image"]])["Images"]
            except ClientError as e:
                if e.response["Error"]["Code"] not in _GONE:
                    raise
                images = []
            found = [m["Ebs"]["SnapshotId"] for i in images for m in i.get("BlockDeviceMappings") or ()
                     if (m.get("Ebs") or {}).get("SnapshotId")]
        try:
            client.deregister_image(ImageId=ami["image"])
        except ClientError as e:
            if e.response["Error"]["Code"] not in _GONE:
                raise
        for snapshot in found:
            try:
                client.delete_snapshot(SnapshotId=snapshot)
            except ClientError as e:
                if e.response["Error"]["Code"] not in _GONE:
                    raise


# -- parent images ----------------------------------------------------------
def _unreachable(integrations, service: str, error: Exception):
    return ServiceUnavailableException(
        f"kiln could not reach {service.upper() if service != 'events' else 'EventBridge'} at "
        f"{integrations.where(service)}: {error}")


def parent_platform(parent: str, param: str = "parentImage") -> str | None:
    """Look a parentImage given as an AMI id or `ssm:` parameter up in EC2 / SSM, when they
    are configured (or moto's mock_aws is active): refused when it does not exist, else
    its platform (Windows or Linux). None when there is nothing to look it up in."""
    frame = notes.current()
    if frame is None:
        return None
    integrations, account, region = frame.integrations, frame.account, frame.region
    image_id = None
    if parent.startswith("ssm:"):
        if not integrations.has("ssm"):
            return None
        name = parent[4:]
        if name.startswith("arn:") and ":parameter" in name:
            name = name.split(":parameter", 1)[1]
        try:
            value = integrations.clients.get("ssm", region, account).get_parameter(Name=name)["Parameter"]["Value"]
        except ClientError as e:
            if e.response["Error"]["Code"] in ("ParameterNotFound", "ValidationException"):
                raise invalid_value(param, f"The SSM parameter '{parent[4:]}' does not exist in {region} "
                                           f"for account {account}.") from None
            raise invalid_value(param, f"kiln could not read the SSM parameter '{parent[4:]}': "
                                       f"{e.response['Error']['Code']}: {e.response['Error'].get('Message')}") from None
        except BotoCoreError as e:
            raise _unreachable(integrations, "ssm", e) from None
        if not value.startswith("ami-"):
            raise invalid_value(param, f"The SSM parameter '{parent[4:]}' holds '{value}', which is not an AMI ID.")
        image_id = value
    elif parent.startswith("ami-"):
        image_id = parent
    if image_id is None or not integrations.has("ec2"):
        return None
    try:
        images = integrations.clients.get("ec2", region, account).describe_images(ImageIds=[image_id])["Images"]
    except ClientError as e:
        if e.response["Error"]["Code"] in ("InvalidAMIID.NotFound", "InvalidAMIID.Malformed",
                                           "InvalidAMIID.Unavailable"):
            images = []
        else:
            raise invalid_value(param, f"kiln could not look up the AMI '{image_id}': "
                                       f"{e.response['Error']['Code']}: {e.response['Error'].get('Message')}") from None
    except BotoCoreError as e:
        raise _unreachable(integrations, "ec2", e) from None
    if not images:
        where = f" (from the SSM parameter '{parent[4:]}')" if parent.startswith("ssm:") else ""
        raise invalid_value(param, f"The AMI '{image_id}'{where} does not exist in {region} or account "
                                   f"{account} cannot use it.")
    return "Windows" if (images[0].get("Platform") or "").lower() == "windows" else "Linux"
