"""Workflow document parsing and validation (service-semantics.md section 6)."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from kiln.errors import InvalidParameterValueException
from kiln.service.workflow_documents import WorkflowDocument, parse_workflow_document

PREFIX = "The value supplied for parameter 'data' is not valid. "

# The structure of the AWS-managed build-image workflow (build-image/1.0.3/1).
BUILD_IMAGE = textwrap.dedent("""\
    name: build-image
    description: Workflow to build an AMI
    schemaVersion: 1.0

    parameters:
      - name: waitForActionAtEnd
        type: boolean
        default: false
        description: "Wait for an external action at the end of the workflow"
      - name: instanceProfile
        type: string

    steps:
      - name: LaunchBuildInstance
        action: LaunchInstance
        onFailure: Abort
        inputs:
          waitFor: "ssmAgent"

      - name: ApplyBuildComponents
        action: ExecuteComponents
        onFailure: Abort
        inputs:
          instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"

      - name: InventoryCollection
        action: CollectImageMetadata
        onFailure: Abort
        if:
          and:
            - stringEquals: "AMI"
              value: "$.imagebuilder.imageType"
            - booleanEquals: true
              value: "$.imagebuilder.collectImageMetadata"
        inputs:
          instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"

      - name: RunSanitizeScript
        action: SanitizeInstance
        onFailure: Abort
        if:
          and:
            - stringEquals: "AMI"
              value: "$.imagebuilder.imageType"
            - not:
                stringEquals: "Windows"
                value: "$.imagebuilder.platform"
        inputs:
          instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"

      - name: RunSysPrepScript
        action: RunSysPrep
        onFailure: Abort
        if:
          and:
            - stringEquals: "AMI"
              value: "$.imagebuilder.imageType"
            - stringEquals: "Windows"
              value: "$.imagebuilder.platform"
        inputs:
          instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"

      - name: CreateOutputAMI
        action: CreateImage
        onFailure: Abort
        timeoutSeconds: 43200
        if:
          stringEquals: "AMI"
          value: "$.imagebuilder.imageType"
        inputs:
          instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"

      - name: WaitForApproval
        action: WaitForAction
        description: Pause so an operator can inspect the build.
        if:
          booleanEquals: true
          value: "$.parameters.waitForActionAtEnd"

      - name: TerminateBuildInstance
        action: TerminateInstance
        onFailure: Continue
        inputs:
          instanceId.$: "$.stepOutputs.LaunchBuildInstance.instanceId"

    outputs:
      - name: "ImageId"
        value: "$.stepOutputs.CreateOutputAMI.imageId"
""")


def test_build_image_workflow():
    doc = parse_workflow_document(BUILD_IMAGE, "BUILD")
    assert isinstance(doc, WorkflowDocument)
    assert doc.parameters == [
        {"name": "waitForActionAtEnd", "type": "boolean", "defaultValue": ["false"],
         "description": "Wait for an external action at the end of the workflow"},
        {"name": "instanceProfile", "type": "string"},
    ]
    assert [(s["name"], s["action"]) for s in doc.steps] == [
        ("LaunchBuildInstance", "LaunchInstance"),
        ("ApplyBuildComponents", "ExecuteComponents"),
        ("InventoryCollection", "CollectImageMetadata"),
        ("RunSanitizeScript", "SanitizeInstance"),
        ("RunSysPrepScript", "RunSysPrep"),
        ("CreateOutputAMI", "CreateImage"),
        ("WaitForApproval", "WaitForAction"),
        ("TerminateBuildInstance", "TerminateInstance"),
    ]
    assert doc.steps[0] == {"name": "LaunchBuildInstance", "action": "LaunchInstance", "onFailure": "Abort",
                            "inputs": {"waitFor": "ssmAgent"}}
    assert doc.steps[5]["timeoutSeconds"] == 43200
    assert doc.steps[5]["if"] == {"stringEquals": "AMI", "value": "$.imagebuilder.imageType"}
    assert doc.steps[6] == {"name": "WaitForApproval", "action": "WaitForAction", "onFailure": "Abort",
                            "description": "Pause so an operator can inspect the build.", "inputs": {},
                            "if": {"booleanEquals": True, "value": "$.parameters.waitForActionAtEnd"}}
    assert doc.steps[7]["onFailure"] == "Continue"
    assert doc.steps[7]["inputs"] == {"instanceId.$": "$.stepOutputs.LaunchBuildInstance.instanceId"}
    assert doc.outputs == [{"name": "ImageId", "value": "$.stepOutputs.CreateOutputAMI.imageId"}]


def test_test_workflow_json_form():
    data = """{
        "schemaVersion": "1.0",
        "steps": [
            {"name": "LaunchTestInstance", "action": "LaunchInstance", "inputs": {"waitFor": "ssmAgent"}},
            {"name": "CollectImageScanFindings", "action": "CollectImageScanFindings", "onFailure": "Continue",
             "inputs": {"instanceId.$": "$.stepOutputs.LaunchTestInstance.instanceId"}},
            {"name": "ApplyTestComponents", "action": "ExecuteComponents",
             "inputs": {"instanceId.$": "$.stepOutputs.LaunchTestInstance.instanceId"}},
            {"name": "TerminateTestInstance", "action": "TerminateInstance", "onFailure": "Continue",
             "inputs": {"instanceId.$": "$.stepOutputs.LaunchTestInstance.instanceId"}}
        ]
    }"""
    doc = parse_workflow_document(data, "TEST")
    assert [s["name"] for s in doc.steps] == ["LaunchTestInstance", "CollectImageScanFindings",
                                              "ApplyTestComponents", "TerminateTestInstance"]
    assert doc.parameters == [] and doc.outputs == []


def test_parameter_default_values_are_string_lists():
    data = yaml.safe_dump({"schemaVersion": 1.0, "parameters": [
        {"name": "flag", "type": "boolean", "default": True},
        {"name": "count", "type": "integer", "default": 5},
        {"name": "regions", "type": "stringList", "default": ["us-east-1", "eu-west-1"]},
        {"name": "label", "type": "string", "default": "golden", "description": "A label"},
        {"name": "required", "type": "string"},
    ], "steps": [{"name": "Wait", "action": "WaitForAction"}]})
    assert parse_workflow_document(data, "BUILD").parameters == [
        {"name": "flag", "type": "boolean", "defaultValue": ["true"]},
        {"name": "count", "type": "integer", "defaultValue": ["5"]},
        {"name": "regions", "type": "stringList", "defaultValue": ["us-east-1", "eu-west-1"]},
        {"name": "label", "type": "string", "defaultValue": ["golden"], "description": "A label"},
        {"name": "required", "type": "string"},
    ]


def test_distribute_image_allowed_in_distribution_workflow():
    data = workflow([{"name": "Distribute", "action": "DistributeImage", "inputs": {"region": "us-east-1"}},
                     {"name": "Configure", "action": "ApplyImageConfigurations", "inputs": {"region": "us-east-1"}}])
    assert [s["action"] for s in parse_workflow_document(data, "DISTRIBUTION").steps] == [
        "DistributeImage", "ApplyImageConfigurations"]


def test_nested_input_references_and_parameter_paths():
    steps = [
        {"name": "Launch", "action": "LaunchInstance", "inputs": {"waitFor": "ssmAgent"}},
        {"name": "Update", "action": "RunCommand", "inputs": {
            "documentName": "AWS-UpdateSSMAgent",
            "instanceId.$": "$.stepOutputs.Launch.instanceId",
            "parameters": {"allowDowngrade": ["false"], "version.$": "$.parameters.agentVersion"}}},
    ]
    data = workflow(steps, parameters=[{"name": "agentVersion", "type": "string", "default": "latest"}])
    assert parse_workflow_document(data, "BUILD").steps[1]["inputs"]["parameters"]["version.$"] == \
        "$.parameters.agentVersion"


# -- negative cases ----------------------------------------------------------

def workflow(steps, **top) -> str:
    return yaml.safe_dump({"schemaVersion": 1.0, **top, "steps": steps}, sort_keys=False)


LAUNCH = {"name": "Launch", "action": "LaunchInstance", "inputs": {"waitFor": "ssmAgent"}}


def expect_invalid(data: str, detail: str, workflow_type: str = "BUILD") -> None:
    with pytest.raises(InvalidParameterValueException) as e:
        parse_workflow_document(data, workflow_type)
    assert e.value.message == PREFIX + detail
    assert e.value.status == 400


def test_invalid_workflow_type():
    with pytest.raises(InvalidParameterValueException) as e:
        parse_workflow_document(workflow([LAUNCH]), "DEPLOY")
    assert e.value.message == ("The value supplied for parameter 'type' is not valid. "
                               "'type' must be one of BUILD, TEST, DISTRIBUTION.")


def test_invalid_yaml():
    expect_invalid("schemaVersion: 1.0\nsteps: name: x\n",
                   "The document is not valid YAML or JSON: mapping values are not allowed here "
                   "at line 2, column 12.")


def test_not_a_mapping():
    expect_invalid("- name: x\n", "The document must be a YAML or JSON mapping of top-level keys, not a list.")


def test_unknown_top_level_key():
    expect_invalid(workflow([LAUNCH], phases=[]),
                   "Unknown top-level key 'phases'. Allowed keys are: name, description, schemaVersion, "
                   "parameters, steps, outputs.")


def test_missing_schema_version():
    expect_invalid(yaml.safe_dump({"steps": [LAUNCH]}),
                   "The document is missing the required key 'schemaVersion'. The supported schemaVersion is 1.0.")


def test_unsupported_schema_version():
    expect_invalid(yaml.safe_dump({"schemaVersion": "2.0", "steps": [LAUNCH]}),
                   "Unsupported schemaVersion '2.0'. The supported schemaVersion is 1.0.")


def test_missing_steps():
    expect_invalid("schemaVersion: 1.0\n", "The document is missing the required key 'steps'.")


@pytest.mark.parametrize("steps", [[], None, {"name": "Launch"}])
def test_steps_must_be_non_empty_list(steps):
    expect_invalid(workflow(steps), "'steps' must be a non-empty list of steps.")


def test_step_not_a_map():
    expect_invalid(workflow([LAUNCH, "Terminate"]), "Step 2 must be a map with a 'name' and an 'action'.")


def test_step_without_name():
    expect_invalid(workflow([{"action": "WaitForAction"}]), "Step 1 has no 'name'.")


@pytest.mark.parametrize("name", ["1Launch", "A", "Launch Instance", "Launch.Instance", "L" * 101, 42])
def test_invalid_step_name(name):
    expect_invalid(workflow([{"name": name, "action": "WaitForAction"}]),
                   f"Invalid step name '{name}'. A step name must start with a letter and contain 2 to 100 "
                   f"characters from english letters [a-z,A-Z], numbers [0-9] and special characters [-_].")


def test_duplicate_step_name():
    expect_invalid(workflow([LAUNCH, LAUNCH]),
                   "Duplicate step name 'Launch'. Step names must be unique within a workflow.")


def test_missing_action():
    expect_invalid(workflow([{"name": "Launch"}]), "Step 'Launch' has no 'action'.")


def test_unknown_action():
    expect_invalid(workflow([{"name": "Launch", "action": "LaunchBuildInstance"}]),
                   "Step 'Launch' has unknown action 'LaunchBuildInstance'. Supported actions are: "
                   "ApplyImageConfigurations, BootstrapInstanceForContainer, CollectImageMetadata, "
                   "CollectImageScanFindings, CreateImage, CreateImageFromIso, DistributeContainerImage, "
                   "DistributeImage, ExecuteComponents, "
                   "ExecuteStateMachine, LaunchInstance, ModifyImageAttributes, RegisterImage, RunCommand, "
                   "RunSysPrep, SanitizeInstance, TerminateInstance, WaitForAction, WaitForSSMAgent.")


@pytest.mark.parametrize("action, stage, workflow_type", [
    ("DistributeImage", "DISTRIBUTION", "BUILD"),
    ("ApplyImageConfigurations", "DISTRIBUTION", "TEST"),
    ("CollectImageMetadata", "BUILD", "TEST"),
    ("CollectImageMetadata", "BUILD", "DISTRIBUTION"),
])
def test_action_not_valid_in_stage(action, stage, workflow_type):
    expect_invalid(workflow([{"name": "Odd", "action": action, "inputs": {}}]),
                   f"Step 'Odd' uses action '{action}', which is only valid in {stage} workflows, "
                   f"not in a {workflow_type} workflow.", workflow_type)


@pytest.mark.parametrize("value", ["Ignore", "abort"])
def test_invalid_on_failure(value):
    expect_invalid(workflow([dict(LAUNCH, onFailure=value)]),
                   f"Step 'Launch' has onFailure '{value}'. Allowed values are: Abort, Continue.")


@pytest.mark.parametrize("value", [-1, 43201, "60", 1.5])
def test_invalid_timeout_seconds(value):
    expect_invalid(workflow([dict(LAUNCH, timeoutSeconds=value)]),
                   f"Step 'Launch' has timeoutSeconds '{value}'. It must be an integer from 0 to 43200.")


def test_timeout_seconds_zero_is_allowed():
    assert parse_workflow_document(workflow([dict(LAUNCH, timeoutSeconds=0)]), "BUILD").steps[0][
        "timeoutSeconds"] == 0


def test_invalid_max_attempts():
    expect_invalid(workflow([dict(LAUNCH, maxAttempts=0)]),
                   "Step 'Launch' has maxAttempts '0'. It must be a positive integer.")


def test_description_too_long():
    expect_invalid(workflow([dict(LAUNCH, description="x" * 501)]),
                   "The description of step 'Launch' must be a string of at most 500 characters.")


def test_inputs_not_a_map():
    expect_invalid(workflow([dict(LAUNCH, inputs=["ssmAgent"])]), "The inputs of step 'Launch' must be a map.")


def test_if_not_a_map():
    expect_invalid(workflow([dict(LAUNCH, **{"if": "true"})]),
                   "The 'if' condition of step 'Launch' must be a map.")


def test_parameters_not_a_list():
    expect_invalid(workflow([LAUNCH], parameters={"name": "x", "type": "string"}),
                   "'parameters' must be a list of maps, each with a 'name' and a 'type'.")


def test_parameter_component_style_is_rejected():
    expect_invalid(workflow([LAUNCH], parameters=[{"Foo": {"type": "string"}}]),
                   "Parameter 1 must have a 'name': a string of 1 to 128 characters.")


def test_parameter_name_too_long():
    expect_invalid(workflow([LAUNCH], parameters=[{"name": "p" * 129, "type": "string"}]),
                   "Parameter 1 must have a 'name': a string of 1 to 128 characters.")


def test_parameter_not_a_map():
    expect_invalid(workflow([LAUNCH], parameters=["waitForActionAtEnd"]),
                   "Parameter 1 must be a map with a 'name' and a 'type'.")


@pytest.mark.parametrize("kind", ["float", "String", None])
def test_parameter_invalid_type(kind):
    expect_invalid(workflow([LAUNCH], parameters=[{"name": "x", "type": kind}]),
                   f"Parameter 'x' has type '{kind}'. Supported types are: string, integer, boolean, stringList.")


def test_duplicate_parameter():
    param = {"name": "x", "type": "string"}
    expect_invalid(workflow([LAUNCH], parameters=[param, param]),
                   "Duplicate parameter name 'x'. Parameter names must be unique.")


@pytest.mark.parametrize("kind, default, detail", [
    ("boolean", "maybe", "The default of boolean parameter 'p' must be true or false, got 'maybe'."),
    ("integer", "ten", "The default of integer parameter 'p' must be an integer, got 'ten'."),
    ("integer", True, "The default of integer parameter 'p' must be an integer, got 'True'."),
    ("stringList", "a,b", "The default of stringList parameter 'p' must be a list of strings."),
    ("string", {"a": 1}, "The default of string parameter 'p' must be a string."),
])
def test_parameter_default_wrong_type(kind, default, detail):
    expect_invalid(workflow([LAUNCH], parameters=[{"name": "p", "type": kind, "default": default}]), detail)


def test_parameter_description_too_long():
    expect_invalid(workflow([LAUNCH], parameters=[{"name": "p", "type": "string", "description": "d" * 1025}]),
                   "The description of parameter 'p' must be a string of at most 1024 characters.")


def test_reference_to_later_step():
    steps = [{"name": "Build", "action": "ExecuteComponents",
              "inputs": {"instanceId.$": "$.stepOutputs.Launch.instanceId"}}, LAUNCH]
    expect_invalid(workflow(steps),
                   "The reference '$.stepOutputs.Launch.instanceId' in step 'Build' refers to step 'Launch', "
                   "which does not run before it. A step can only use the outputs of earlier steps.")


def test_reference_to_own_step():
    steps = [dict(LAUNCH, inputs={"waitFor": "ssmAgent", "subnet.$": "$.stepOutputs.Launch.subnetId"})]
    expect_invalid(workflow(steps),
                   "The reference '$.stepOutputs.Launch.subnetId' in step 'Launch' refers to step 'Launch', "
                   "which does not run before it. A step can only use the outputs of earlier steps.")


def test_reference_to_missing_step():
    steps = [LAUNCH, {"name": "Terminate", "action": "TerminateInstance",
                      "inputs": {"instanceId.$": "$.stepOutputs.LaunchBuildInstance.instanceId"}}]
    expect_invalid(workflow(steps),
                   "The reference '$.stepOutputs.LaunchBuildInstance.instanceId' in step 'Terminate' refers to "
                   "step 'LaunchBuildInstance', which does not exist in this workflow.")


def test_reference_to_undeclared_parameter_in_inputs():
    steps = [{"name": "Run", "action": "RunCommand", "inputs": {"documentName.$": "$.parameters.docName"}}]
    expect_invalid(workflow(steps),
                   "The reference '$.parameters.docName' in step 'Run' refers to parameter 'docName', which is "
                   "not declared under 'parameters'.")


def test_reference_to_undeclared_parameter_in_nested_condition():
    condition = {"and": [{"stringEquals": "AMI", "value": "$.imagebuilder.imageType"},
                         {"not": {"booleanEquals": True, "value": "$.parameters.skipWait"}}]}
    steps = [LAUNCH, {"name": "Wait", "action": "WaitForAction", "if": condition}]
    expect_invalid(workflow(steps, parameters=[{"name": "other", "type": "boolean"}]),
                   "The reference '$.parameters.skipWait' in step 'Wait' refers to parameter 'skipWait', which "
                   "is not declared under 'parameters'.")


def test_reference_that_is_not_jsonpath():
    steps = [LAUNCH, {"name": "Terminate", "action": "TerminateInstance",
                      "inputs": {"instanceId.$": "stepOutputs.Launch.instanceId"}}]
    expect_invalid(workflow(steps),
                   "The reference 'stepOutputs.Launch.instanceId' in step 'Terminate' is not a JSONPath "
                   "expression; it must start with '$.'.")


def test_output_reference_to_missing_step():
    expect_invalid(workflow([LAUNCH], outputs=[{"name": "ImageId", "value": "$.stepOutputs.CreateOutputAMI.imageId"}]),
                   "The reference '$.stepOutputs.CreateOutputAMI.imageId' in output 'ImageId' refers to step "
                   "'CreateOutputAMI', which does not exist in this workflow.")


def test_output_without_value():
    expect_invalid(workflow([LAUNCH], outputs=[{"name": "ImageId"}]),
                   "Output 1 must be a map with a 'name' and a 'value'.")


def test_outputs_not_a_list():
    expect_invalid(workflow([LAUNCH], outputs={"ImageId": "$.stepOutputs.Launch.instanceId"}),
                   "'outputs' must be a list of maps, each with a 'name' and a 'value'.")


def test_duplicate_output_name():
    out = {"name": "InstanceId", "value": "$.stepOutputs.Launch.instanceId"}
    expect_invalid(workflow([LAUNCH], outputs=[out, out]),
                   "Duplicate output name 'InstanceId'. Output names must be unique.")
