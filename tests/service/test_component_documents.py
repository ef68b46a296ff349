"""Component document parsing and validation (service-semantics.md section 5)."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from kiln.errors import InvalidParameterValueException
from kiln.service.component_documents import ComponentDocument, parse_component_document

PREFIX = "The value supplied for parameter 'data' is not valid. "

LINUX_COMPONENT = textwrap.dedent("""\
    name: NginxLinux
    description: Installs nginx, checks it, and tests it answers.
    schemaVersion: 1.0

    parameters:
      - PackageName:
          type: string
          default: nginx
          description: The package to install.
      - ConfigBucket:
          type: string
          description: Bucket that holds nginx.conf.
      - Retries:
          type: string
          default: 3
      - Verbose:
          type: string
          default: true

    constants:
      - ConfigDir:
          type: string
          value: /etc/nginx

    phases:
      - name: build
        steps:
          - name: InstallPackage
            action: ExecuteBash
            timeoutSeconds: 600
            onFailure: Abort
            maxAttempts: 3
            inputs:
              commands:
                - sudo yum install -y "{{ PackageName }}"
          - name: DownloadConfig
            action: S3Download
            inputs:
              - source: "s3://{{ ConfigBucket }}/nginx.conf"
                destination: "{{ConfigDir}}/nginx.conf"
                overwrite: true
          - name: Create_Markers
            action: CreateFile
            loop:
              name: markers
              forEach:
                - first
                - second
            inputs:
              - path: "/tmp/marker-{{ markers.value }}"
                content: "{{ loop.index }}"
          - name: Count-Down
            action: ExecuteBash
            loop:
              for:
                start: 3
                end: 1
                updateBy: -1
            inputs:
              commands:
                - echo "{{ loop.value }}"
          - name: SplitList
            action: ExecuteBash
            loop:
              forEach:
                list: "a,b,c"
                delimiter: ","
            inputs:
              commands:
                - echo "{{ loop.value }}"
          - name: UpdateEverything
            action: UpdateOS
          - name: RebootAfterUpdate
            action: Reboot
            onFailure: Continue

      - name: validate
        steps:
          - name: CheckInstalled
            action: ExecuteBash
            timeoutSeconds: -1
            inputs:
              commands:
                - rpm -q "{{ PackageName }}"
                - echo "{{ build.InstallPackage.outputs.stdout }}"
                - echo "{{{ imagebuilder:parentImage }}}"

      - name: test
        steps:
          - name: CurlLocalhost
            action: ExecuteBash
            onFailure: Ignore
            inputs:
              commands:
                - curl -sf http://localhost/
""")


def test_realistic_linux_component():
    doc = parse_component_document(LINUX_COMPONENT)
    assert doc == ComponentDocument(
        parameters=[
            {"name": "PackageName", "type": "string", "defaultValue": ["nginx"],
             "description": "The package to install."},
            {"name": "ConfigBucket", "type": "string", "description": "Bucket that holds nginx.conf."},
            {"name": "Retries", "type": "string", "defaultValue": ["3"]},
            {"name": "Verbose", "type": "string", "defaultValue": ["true"]},
        ],
        type="BUILD",
        phases=["build", "validate", "test"],
        required_parameters=frozenset({"ConfigBucket"}),
    )


def test_test_only_component_is_type_test():
    doc = parse_component_document(textwrap.dedent("""\
        schemaVersion: "1.0"
        phases:
          - name: test
            steps:
              - name: CheckPort
                action: ExecuteBash
                inputs:
                  commands: ["ss -ltn | grep -q ':80 '"]
    """))
    assert doc.type == "TEST"
    assert doc.phases == ["test"]
    assert doc.parameters == []
    assert doc.required_parameters == frozenset()


def test_test_phase_with_container_host_test_is_build():
    doc = parse_component_document(textwrap.dedent("""\
        schemaVersion: 1.0
        phases:
          - name: test
            steps:
              - name: A
                action: ExecuteBash
                inputs: {commands: [true]}
          - name: container-host-test
            steps:
              - name: B
                action: ExecuteBash
                inputs: {commands: [true]}
    """))
    assert doc.type == "BUILD"
    assert doc.phases == ["test", "container-host-test"]


def test_json_form_with_tab_indentation():
    data = (
        '{\n\t"schemaVersion": 1.0,\n'
        '\t"parameters": [{"InstallerUrl": {"type": "string", "description": "Where to get it"}}],\n'
        '\t"phases": [{\n\t\t"name": "build",\n\t\t"steps": [\n'
        '\t\t\t{"name": "Fetch", "action": "WebDownload",\n'
        '\t\t\t "inputs": [{"source": "{{ InstallerUrl }}", "destination": "C:\\\\setup.msi"}]},\n'
        '\t\t\t{"name": "Install", "action": "ExecutePowerShell", "inputs": {"file": "C:\\\\install.ps1"}},\n'
        '\t\t\t{"name": "RunTool", "action": "ExecuteBinary", "inputs": {"path": "C:\\\\tool.exe", "arguments": ["/q"]}}\n'
        '\t\t]\n\t}]\n}'
    )
    doc = parse_component_document(data)
    assert doc.type == "BUILD"
    assert doc.phases == ["build"]
    assert doc.parameters == [{"name": "InstallerUrl", "type": "string", "description": "Where to get it"}]
    assert doc.required_parameters == frozenset({"InstallerUrl"})


def test_custom_param_name_in_message():
    with pytest.raises(InvalidParameterValueException) as e:
        parse_component_document("[]", param="uri")
    assert e.value.message == ("The value supplied for parameter 'uri' is not valid. "
                               "The document must be a YAML or JSON mapping of top-level keys, not a list.")


# -- negative cases ----------------------------------------------------------

def build_doc(steps: list, **top) -> str:
    """A document with one `build` phase holding `steps`, plus extra top-level keys."""
    return yaml.safe_dump({"schemaVersion": 1.0, **top, "phases": [{"name": "build", "steps": steps}]},
                          sort_keys=False)


def bash(name: str = "Step1", **extra) -> dict:
    return {"name": name, "action": "ExecuteBash", "inputs": {"commands": ["echo hi"]}, **extra}


def expect_invalid(data: str, detail: str) -> None:
    with pytest.raises(InvalidParameterValueException) as e:
        parse_component_document(data)
    assert e.value.message == PREFIX + detail
    assert e.value.status == 400


def step_error(step: str, error: str, phase: str = "build") -> str:
    return f"Parsing step '{step}' in phase '{phase}' failed. Error: {error}"


def test_yaml_syntax_error_names_problem_and_line():
    expect_invalid("schemaVersion: 1.0\nphases: [\n  - name: build\n",
                   "The document is not valid YAML or JSON: expected the node content, but found '-' "
                   "at line 3, column 3 (while parsing a flow node).")


def test_yaml_mapping_error():
    expect_invalid("schemaVersion: 1.0\nphases: name: build\n",
                   "The document is not valid YAML or JSON: mapping values are not allowed here "
                   "at line 2, column 13.")


def test_scalar_document():
    expect_invalid("just some text",
                   "The document must be a YAML or JSON mapping of top-level keys, not a scalar value (str).")


def test_list_document():
    expect_invalid("- a\n- b\n", "The document must be a YAML or JSON mapping of top-level keys, not a list.")


def test_empty_document():
    expect_invalid("# only a comment\n",
                   "The document must be a YAML or JSON mapping of top-level keys, not an empty document.")


def test_unknown_top_level_key():
    expect_invalid(build_doc([bash()], phase="build"),
                   "Unknown top-level key 'phase'. Allowed keys are: name, description, schemaVersion, "
                   "parameters, constants, phases.")


def test_missing_schema_version():
    expect_invalid(yaml.safe_dump({"phases": [{"name": "build", "steps": [bash()]}]}),
                   "The document is missing the required key 'schemaVersion'. The supported schemaVersion is 1.0.")


@pytest.mark.parametrize("version, shown", [("2.0", "2.0"), ("2", "2"), ("'1.1'", "1.1"), ("true", "true"),
                                            ("'one'", "one"), ("0.1", "0.1")])
def test_unsupported_schema_version(version, shown):
    expect_invalid(f"schemaVersion: {version}\nphases: []\n",
                   f"Unsupported schemaVersion '{shown}'. The supported schemaVersion is 1.0.")


def test_missing_phases():
    expect_invalid("schemaVersion: 1.0\n", "The document is missing the required key 'phases'.")


@pytest.mark.parametrize("phases", ["[]", "build", "{name: build}"])
def test_phases_not_a_non_empty_list(phases):
    expect_invalid(f"schemaVersion: 1.0\nphases: {phases}\n",
                   "'phases' must be a non-empty list of phases, each with a 'name' and 'steps'.")


def test_phase_not_a_map():
    expect_invalid("schemaVersion: 1.0\nphases:\n  - build\n",
                   "Phase 1 must be a map with a 'name' and 'steps'.")


def test_phase_without_name():
    expect_invalid(yaml.safe_dump({"schemaVersion": 1.0, "phases": [{"steps": [bash()]}]}),
                   "Phase 1 has no 'name'.")


def test_duplicate_phase_names():
    phase = {"name": "build", "steps": [bash()]}
    expect_invalid(yaml.safe_dump({"schemaVersion": 1.0, "phases": [phase, phase]}),
                   "Duplicate phase name 'build'. Phase names must be unique within a document.")


def test_no_build_validate_or_test_phase():
    phases = [{"name": "install", "steps": [bash()]}, {"name": "container-host-test", "steps": [bash()]}]
    expect_invalid(yaml.safe_dump({"schemaVersion": 1.0, "phases": phases}),
                   "The document has no phase named 'build', 'validate' or 'test' (found: 'install', "
                   "'container-host-test'). At least one of them is required.")


@pytest.mark.parametrize("steps", [[], None, "ExecuteBash"])
def test_phase_steps_must_be_non_empty_list(steps):
    expect_invalid(build_doc(steps), "Phase 'build' must have a non-empty list of 'steps'.")


def test_step_not_a_map():
    expect_invalid(build_doc([bash(), "Step2"]),
                   "Step 2 in phase 'build' must be a map with a 'name' and an 'action'.")


def test_step_without_name():
    expect_invalid(build_doc([{"action": "Reboot"}]), "Step 1 in phase 'build' has no 'name'.")


def test_invalid_step_name_matches_real_message():
    expect_invalid(build_doc([bash("Loading ssh keys")]),
                   "Invalid step name 'Loading ssh keys' in phase 'build'. Allowed characters are combinations "
                   "of numbers [0-9], english letters [a-z,A-Z] and special characters [-_].")


def test_duplicate_step_name():
    expect_invalid(build_doc([bash("Install"), bash("Install")]),
                   "Duplicate step name 'Install' in phase 'build'. Step names must be unique within a phase.")


def test_missing_action():
    expect_invalid(build_doc([{"name": "NoAction", "inputs": {"commands": ["x"]}}]),
                   step_error("NoAction", "Step has no action; it requires an 'action'"))


def test_unknown_action_suggests_close_match():
    expect_invalid(build_doc([{"name": "Typo", "action": "ExecuteBsh", "inputs": {"commands": ["x"]}}]),
                   step_error("Typo", "Action 'ExecuteBsh' is not a supported action module. "
                                      "Did you mean 'ExecuteBash'?"))


def test_unknown_action_without_close_match():
    expect_invalid(build_doc([{"name": "Odd", "action": "LaunchRocket", "inputs": {}}]),
                   step_error("Odd", "Action 'LaunchRocket' is not a supported action module."))


def test_missing_inputs_matches_real_message():
    expect_invalid(build_doc([{"name": "Download", "action": "S3Download"}]),
                   step_error("Download", "Action S3Download has no inputs; it requires an 'inputs'"))


def test_missing_inputs_for_file_action():
    expect_invalid(build_doc([{"name": "Copy", "action": "CopyFile"}]),
                   step_error("Copy", "Action CopyFile has no inputs; it requires an 'inputs'"))


def test_inputs_scalar():
    expect_invalid(build_doc([{"name": "Run", "action": "ExecuteBash", "inputs": "echo hi"}]),
                   step_error("Run", "The inputs of action ExecuteBash must be a map or a list, not a str"))


def test_execute_bash_needs_commands():
    expect_invalid(build_doc([{"name": "Run", "action": "ExecuteBash", "inputs": {"command": ["x"]}}]),
                   step_error("Run", "Action ExecuteBash requires input 'commands'"))


def test_execute_bash_commands_must_be_list():
    expect_invalid(build_doc([{"name": "Run", "action": "ExecuteBash", "inputs": {"commands": "echo hi"}}]),
                   step_error("Run", "Input 'commands' of action ExecuteBash must be a list of commands"))


def test_execute_powershell_needs_commands_or_file():
    expect_invalid(build_doc([{"name": "Run", "action": "ExecutePowerShell", "inputs": {"script": "x"}}]),
                   step_error("Run", "Action ExecutePowerShell requires input 'commands' or 'file'"))


def test_execute_binary_needs_path():
    expect_invalid(build_doc([{"name": "Run", "action": "ExecuteBinary", "inputs": {"arguments": ["-v"]}}]),
                   step_error("Run", "Input item 1 of action ExecuteBinary has no 'path'"))


def test_execute_document_needs_document():
    expect_invalid(build_doc([{"name": "Run", "action": "ExecuteDocument", "inputs": {"phases": "build"}}]),
                   step_error("Run", "Input item 1 of action ExecuteDocument has no 'document'"))


def test_s3_download_needs_a_list():
    inputs = {"source": "s3://b/k", "destination": "/tmp/k"}
    expect_invalid(build_doc([{"name": "Download", "action": "S3Download", "inputs": inputs}]),
                   step_error("Download", "Action S3Download requires 'inputs' to be a non-empty list of items, "
                                          "each with 'source' and 'destination'"))


def test_s3_download_item_needs_destination():
    inputs = [{"source": "s3://b/a", "destination": "/tmp/a"}, {"source": "s3://b/k"}]
    expect_invalid(build_doc([{"name": "Download", "action": "S3Download", "inputs": inputs}]),
                   step_error("Download", "Input item 2 of action S3Download has no 'destination'"))


def test_web_download_item_needs_source():
    inputs = [{"destination": "/tmp/x"}]
    expect_invalid(build_doc([{"name": "Fetch", "action": "WebDownload", "inputs": inputs}]),
                   step_error("Fetch", "Input item 1 of action WebDownload has no 'source'"))


def test_s3_upload_item_not_a_map():
    expect_invalid(build_doc([{"name": "Up", "action": "S3Upload", "inputs": ["/tmp/x"]}]),
                   step_error("Up", "Input item 1 of action S3Upload must be a map with 'source' and 'destination'"))


def test_create_file_needs_path():
    expect_invalid(build_doc([{"name": "Make", "action": "CreateFile", "inputs": [{"content": "hi"}]}]),
                   step_error("Make", "Input item 1 of action CreateFile has no 'path'"))


@pytest.mark.parametrize("timeout", [0, -2, "60", 1.5, True])
def test_timeout_seconds_invalid(timeout):
    expect_invalid(build_doc([bash(timeoutSeconds=timeout)]),
                   step_error("Step1", f"'timeoutSeconds' must be -1 (no timeout) or a positive integer, "
                                       f"got '{timeout}'"))


def test_on_failure_is_case_sensitive():
    expect_invalid(build_doc([bash(onFailure="abort")]),
                   step_error("Step1", "'onFailure' must be one of Abort, Continue, Ignore, got 'abort'"))


@pytest.mark.parametrize("attempts", [0, -1, "3"])
def test_max_attempts_invalid(attempts):
    expect_invalid(build_doc([bash(maxAttempts=attempts)]),
                   step_error("Step1", f"'maxAttempts' must be a positive integer, got '{attempts}'"))


def test_loop_not_a_map():
    expect_invalid(build_doc([bash(loop=["a", "b"])]),
                   step_error("Step1", "'loop' must be a map with either 'for' or 'forEach'"))


@pytest.mark.parametrize("loop", [
    {"for": {"start": 1, "end": 2, "updateBy": 1}, "forEach": ["a"]},
    {"name": "only_a_name"},
])
def test_loop_needs_exactly_one_form(loop):
    expect_invalid(build_doc([bash(loop=loop)]),
                   step_error("Step1", "A loop must define exactly one of 'for' or 'forEach'"))


def test_loop_name_must_be_string():
    expect_invalid(build_doc([bash(loop={"name": 5, "forEach": ["a"]})]),
                   step_error("Step1", "The loop 'name' must be a string"))


def test_for_loop_needs_all_bounds():
    expect_invalid(build_doc([bash(loop={"for": {"start": 1, "end": 5}})]),
                   step_error("Step1", "A 'for' loop requires 'start', 'end' and 'updateBy'"))


def test_for_loop_bound_must_be_integer():
    expect_invalid(build_doc([bash(loop={"for": {"start": "one", "end": 5, "updateBy": 1}})]),
                   step_error("Step1", "The 'for' loop value 'start' must be an integer, got 'one'"))


def test_for_loop_with_placeholder_bound_is_accepted():
    doc = build_doc([bash(loop={"for": {"start": 1, "end": "{{ Count }}", "updateBy": 1}})],
                    parameters=[{"Count": {"type": "string", "default": "3"}}])
    assert parse_component_document(doc).phases == ["build"]


@pytest.mark.parametrize("start, end, update_by", [(1, 5, 0), (1, 5, -1), (5, 1, 2)])
def test_for_loop_that_never_ends(start, end, update_by):
    loop = {"for": {"start": start, "end": end, "updateBy": update_by}}
    expect_invalid(build_doc([bash(loop=loop)]),
                   step_error("Step1", f"The 'for' loop from {start} to {end} with updateBy {update_by} "
                                       f"would never end"))


@pytest.mark.parametrize("for_each", ["a,b,c", {"delimiter": ","}, {"list": ["a"]}])
def test_for_each_bad_shape(for_each):
    expect_invalid(build_doc([bash(loop={"forEach": for_each})]),
                   step_error("Step1", "A 'forEach' loop must be a list, or a map with a 'list' string "
                                       "and an optional 'delimiter'"))


def test_parameters_not_a_list():
    expect_invalid(build_doc([bash()], parameters={"Foo": {"type": "string"}}),
                   "'parameters' must be a list of single-key maps, for example "
                   "'- MyParameter: {type: string, default: value}'.")


def test_parameter_entry_with_two_keys():
    expect_invalid(build_doc([bash()], parameters=[{"name": "Foo", "type": "string"}]),
                   "Entry 1 of 'parameters' must be a map with exactly one key, the parameter name, "
                   "for example '- MyParameter: {type: string, default: value}'.")


@pytest.mark.parametrize("name", ["ab", "has space", "x" * 129, "dot.ted"])
def test_parameter_name_invalid(name):
    expect_invalid(build_doc([bash()], parameters=[{name: {"type": "string"}}]),
                   f"Invalid parameter name '{name}'. Names must be 3 to 128 characters long and use only "
                   f"numbers [0-9], english letters [a-z,A-Z] and special characters [-_].")


def test_parameter_spec_not_a_map():
    expect_invalid(build_doc([bash()], parameters=[{"Foo": "string"}]),
                   "The parameter 'Foo' must be a map with at least 'type: string'.")


def test_parameter_without_type():
    expect_invalid(build_doc([bash()], parameters=[{"Foo": {"default": "x"}}]),
                   "The parameter 'Foo' has no 'type'. The only supported type is 'string'.")


def test_parameter_type_not_string():
    expect_invalid(build_doc([bash()], parameters=[{"Foo": {"type": "integer"}}]),
                   "The parameter 'Foo' has type 'integer'. The only supported type is 'string'.")


def test_parameter_default_not_scalar():
    expect_invalid(build_doc([bash()], parameters=[{"Foo": {"type": "string", "default": ["a", "b"]}}]),
                   "The 'default' of parameter 'Foo' must be a string, not a list.")


def test_parameter_description_not_string():
    expect_invalid(build_doc([bash()], parameters=[{"Foo": {"type": "string", "description": ["x"]}}]),
                   "The description of parameter 'Foo' must be a string.")


def test_constant_without_value():
    expect_invalid(build_doc([bash()], constants=[{"Dir": {"type": "string"}}]),
                   "The constant 'Dir' has no 'value'.")


def test_constants_not_a_list():
    expect_invalid(build_doc([bash()], constants="Dir"),
                   "'constants' must be a list of single-key maps, for example "
                   "'- MyConstant: {type: string, value: value}'.")


def test_duplicate_name_across_parameters_and_constants():
    expect_invalid(build_doc([bash()], parameters=[{"Target": {"type": "string"}}],
                             constants=[{"Target": {"type": "string", "value": "/opt"}}]),
                   "Duplicate name 'Target'. Parameter and constant names must be unique across the "
                   "'parameters' and 'constants' sections.")


def test_duplicate_parameter_name():
    expect_invalid(build_doc([bash()], parameters=[{"Foo": {"type": "string"}}, {"Foo": {"type": "string"}}]),
                   "Duplicate name 'Foo'. Parameter and constant names must be unique across the "
                   "'parameters' and 'constants' sections.")


def test_undefined_variable_reference():
    step = {"name": "Run", "action": "ExecuteBash", "inputs": {"commands": ["echo {{ Missing }}"]}}
    expect_invalid(build_doc([step], parameters=[{"Present": {"type": "string"}}]),
                   step_error("Run", "Variable '{{ Missing }}' is not defined; declare 'Missing' "
                                     "under 'parameters' or 'constants'"))


def test_undefined_reference_in_nested_inputs():
    step = {"name": "Get", "action": "S3Download", "inputs": [{"source": "s3://b/k", "destination": "{{Dest}}"}]}
    expect_invalid(build_doc([step]),
                   step_error("Get", "Variable '{{ Dest }}' is not defined; declare 'Dest' "
                                     "under 'parameters' or 'constants'"))


def test_references_are_case_sensitive():
    step = {"name": "Run", "action": "ExecuteBash", "inputs": {"commands": ["echo {{ packagename }}"]}}
    expect_invalid(build_doc([step], parameters=[{"PackageName": {"type": "string"}}]),
                   step_error("Run", "Variable '{{ packagename }}' is not defined; declare 'packagename' "
                                     "under 'parameters' or 'constants'"))


def test_dotted_and_loop_references_are_not_checked():
    step = {"name": "Run", "action": "ExecuteBash", "loop": {"name": "items", "forEach": ["a"]},
            "inputs": {"commands": ["echo {{ build.Other.outputs.stdout }} {{ items.value }} {{ loop.index }}",
                                    "echo {{ build.Other.inputs[0].commands }}"]}}
    assert parse_component_document(build_doc([step])).phases == ["build"]


def test_yaml_aliases_are_walked_once():
    # Nine levels of nine aliases: 9**9 strings if each alias were walked again.
    lines = ["x0: &x0 [echo hi]"]
    for level in range(1, 10):
        lines.append(f"x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * 9) + "]")
    aliases = yaml.safe_load("\n".join(lines))
    data = build_doc([{"name": "Run", "action": "ExecuteBash", "inputs": {"commands": aliases["x9"]}}])
    assert "*x" not in data and "&" in data  # the dump keeps the sharing as YAML aliases
    assert parse_component_document(data).phases == ["build"]
