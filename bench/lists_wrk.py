"""Lists under load, kiln vs moto's server: req/s of a 25-item page with wrk driving each
server to its limit (bench/operations.py measures them from one client thread, where the
client's own cost per call caps the ratio).

Both servers at once, pinned to core 0; wrk -t1 -c8 on core 1, the same request over and
over (bench/unique.lua with nothing to fill in), one server then the other, --rounds times
in a new random order. kiln holds 25 image versions, 25 components, 25 workflows, 25
recipes and 25 infrastructure configurations of its own; moto 25 Lambda functions.
Comparable: Lambda ListFunctions (MaxItems 25), as issue 14's table. Target: >= 10.
"""
from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as c  # noqa: E402
from operations import QuietServer, moto_server_cmd  # noqa: E402
from writes_wrk import DOC, headers, in_turns, zip_bytes  # noqa: E402

TARGET = 10.0
WORKFLOW = ("name: wf\nschemaVersion: 1.0\nsteps:\n  - name: Launch\n    action: LaunchInstance\n"
            "    onFailure: Abort\n    inputs:\n      waitFor: ssmAgent\n")


def seed_kiln(port: int) -> None:
    h = c.Http(port)
    comps = h.call("ListComponents", {"owner": "Amazon", "maxResults": 100})["componentVersionList"]
    comp = next(x["arn"] for x in comps if "update-linux" in x["arn"])
    infra = None
    for i in range(25):
        t = lambda: str(uuid.uuid4())  # noqa: E731
        arn = h.call("CreateInfrastructureConfiguration", {"name": f"infra-{i:02d}", "instanceProfileName": "p",
                                                            "clientToken": t()})["infrastructureConfigurationArn"]
        infra = infra or arn
        h.call("CreateComponent", {"name": f"comp-{i:02d}", "semanticVersion": "1.0.0", "platform": "Linux",
                                   "data": DOC, "clientToken": t()})
        h.call("CreateWorkflow", {"name": f"wf-{i:02d}", "semanticVersion": "1.0.0", "type": "BUILD",
                                  "data": WORKFLOW, "clientToken": t()})
        recipe = h.call("CreateImageRecipe", {"name": f"recipe-{i:02d}", "semanticVersion": "1.0.0",
                                              "parentImage": "ami-0123456789abcdef0",
                                              "components": [{"componentArn": comp}], "clientToken": t()})[
            "imageRecipeArn"]
        h.call("CreateImage", {"imageRecipeArn": recipe, "infrastructureConfigurationArn": infra, "clientToken": t()})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    if not c.have_wrk():
        raise SystemExit("wrk is needed (apt-get install wrk)")
    import boto3

    print(f"# 25-item list pages under load (wrk -t1 -c8), kiln vs moto_server, {datetime.date.today()}, {c.machine()}")
    with c.tempdir("kiln-lists-", None) as data_dir:
        kiln = c.kiln_server(data_dir, core=0).start()
        moto_port = c.free_port()
        moto = QuietServer(moto_server_cmd(moto_port), moto_port, "/moto-api/").start()
        try:
            seed_kiln(kiln.port)
            session = dict(region_name=c.REGION, endpoint_url=f"http://127.0.0.1:{moto_port}",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
            role = boto3.client("iam", **session).create_role(
                RoleName="bench", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))[
                "Role"]["Arn"]
            lam = boto3.client("lambda", **session)
            code = base64.b64decode(zip_bytes())
            for i in range(25):
                lam.create_function(FunctionName=f"fn-{i:02d}", Runtime="python3.11", Role=role,
                                    Handler="handler.handler", Code={"ZipFile": code})
            moto_req = ("GET", "/2015-03-31/functions/?MaxItems=25", "", headers("lambda", {}))
            kiln_json = {"Content-Type": "application/json"}
            cases = {
                "ListImages": {"maxResults": 25},
                "ListComponents": {"maxResults": 25},
                "ListComponents owner=Amazon": {"owner": "Amazon", "maxResults": 25},
                "ListWorkflows": {"maxResults": 25},
                "ListImageRecipes": {"maxResults": 25},
                "ListInfrastructureConfigurations": {"maxResults": 25},
            }
            for label, body in cases.items():
                op = label.split()[0]
                kiln_req = ("POST", f"/{op}", json.dumps(body), headers("imagebuilder", kiln_json))
                in_turns(label, {"kiln": (kiln.port, kiln_req), "moto": (moto_port, moto_req)}, args.rounds,
                         args.seconds, width=34, target=TARGET)
        finally:
            kiln.stop()
            moto.stop()


if __name__ == "__main__":
    main()
