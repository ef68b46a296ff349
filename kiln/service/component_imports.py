"""ImportComponent: a script (`format` SHELL) wrapped into a component document with a
single step that runs it, then created as any component build (components.create_build).

The API Reference: "For the SHELL format, Image Builder wraps your script in a component
document with a single step that runs the script", and `data` is "the plain script
content". The document kiln writes (docs/behaviour.md, ImportComponent):

    name: <name>
    description: <description, when given>
    schemaVersion: 1.0
    phases:
      - name: build            # `test` when type is TEST: a single `test` phase is what
        steps:                 # makes a TEST component, and what runs in the test stage
          - name: RunScript
            action: ExecuteBash   # ExecutePowerShell on Windows
            inputs:
              commands:
                - |-
                  <the script, verbatim>
"""
from __future__ import annotations

import yaml

from kiln.service import components, operation

STEP_NAME = "RunScript"
PHASES = {"BUILD": "build", "TEST": "test"}
ACTIONS = {"Linux": "ExecuteBash", "macOS": "ExecuteBash", "Windows": "ExecutePowerShell"}


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str):
    # A multi-line script reads as a literal block; PyYAML falls back to a quoted
    # scalar by itself when a block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def wrap_script(request: dict, script: str) -> str:
    """The component document ImportComponent makes of a SHELL script."""
    document = {"name": request["name"]}
    if "description" in request:
        document["description"] = request["description"]
    document["schemaVersion"] = 1.0
    document["phases"] = [{
        "name": PHASES[request["type"]],
        "steps": [{
            "name": STEP_NAME,
            "action": ACTIONS[request["platform"]],
            "inputs": {"commands": [script]},
        }],
    }]
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30)


@operation("ImportComponent")
def import_component(ctx, request):
    script = components.read_document(request)  # exactly one of data/uri; uri refused offline
    created = components.create_build(ctx, request, wrap_script(request, script))
    return {"clientToken": created["clientToken"], "componentBuildVersionArn": created["componentBuildVersionArn"]}
