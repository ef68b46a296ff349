"""The comparer finds what it claims to find (so a green parity run means something)."""
import boto3

from .compare import Comparer

SHAPE = boto3.client("imagebuilder", region_name="us-west-2").meta.service_model.operation_model("GetImageRecipe").output_shape


def kinds(pub, act, date="2026-01-01", **kw):
    return sorted((d.path, d.kind) for d in Comparer(date, **kw).compare(pub, act, SHAPE))


def test_missing_extra_and_values():
    pub = {"requestId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
           "imageRecipe": {"name": "r", "platform": "Linux", "dateCreated": "2020-02-14T19:46:16.904Z", "workingDirectory": "/tmp"}}
    act = {"requestId": "0b7c5d2e-1111-2222-3333-444455556666",
           "imageRecipe": {"name": "r", "platform": "Windows", "dateCreated": "2026-11-30T18:19:09.820Z", "type": "AMI", "bogus": 1}}
    assert kinds(pub, act) == [("imageRecipe.bogus", "extra"), ("imageRecipe.platform", "value"),
                               ("imageRecipe.type", "extra"), ("imageRecipe.workingDirectory", "missing")]


def test_fields_added_after_the_example_are_not_differences():
    pub = {"imageRecipe": {"name": "r"}}
    act = {"imageRecipe": {"name": "r", "type": "AMI", "workingDirectory": "/tmp"}}  # both gained in 2020
    assert kinds(pub, act, date="2020-03-11") == []
    assert kinds(pub, act, date="2021-01-01") == [("imageRecipe.type", "extra"), ("imageRecipe.workingDirectory", "extra")]


def test_order_and_formats():
    a = "arn:aws:imagebuilder:us-west-2:123456789012:image-recipe/r/1.0.{}"
    pub = {"imageRecipe": {"components": [{"componentArn": a.format(0)}], "dateCreated": "2020-02-14T19:46:16.904Z"}}
    act = {"imageRecipe": {"components": [{"componentArn": "r"}], "dateCreated": "yesterday"}}
    assert kinds(pub, act) == [("imageRecipe.components[0].componentArn", "format"), ("imageRecipe.dateCreated", "format")]
    c = Comparer("2026-01-01")
    c.compare([{"arn": a.format(0)}, {"arn": a.format(1)}], [{"arn": a.format(1)}, {"arn": a.format(0)}], None)
    assert [d.kind for d in c.diffs] == ["order"]


def test_workflow_ids_by_format_and_step_data_as_json():
    pub = {"stepExecutionId": "step-a1b2c3d4-5678-90ab-cdef-EXAMPLE33333",
           "workflowExecutionId": "wf-165b1cb6-3a62-4618-a021-94ddcbe32908",
           "inputs": "{\"waitFor\": \"ssmAgent\"}", "outputs": "{\"instanceId\": \"i-1234567890abcdef0\"}"}
    act = {"stepExecutionId": "step-0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
           "workflowExecutionId": "wf-0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
           "inputs": "{\"waitFor\": \"ssmAgent\"}", "outputs": "{\"instanceId\": \"i-0abc\", \"extra\": 1}"}
    c = Comparer("2026-01-01")
    c.compare(pub, act, None)
    assert sorted(d.key() for d in c.diffs) == [("outputs<json>.extra", "extra"), ("outputs<json>.instanceId", "format")]
    c = Comparer("2026-01-01")
    c.compare({"stepExecutionId": "step-x"}, {"stepExecutionId": "wf-a1b2c3d4-5678-90ab-cdef-EXAMPLE33333"}, None)
    assert [d.kind for d in c.diffs] == ["format"]
