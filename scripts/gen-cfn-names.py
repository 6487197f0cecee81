#!/usr/bin/env python3
"""Generate src/front/cfn/names.json: CloudFormation property paths -> AWS API member names.

For each CloudFormation resource type pipefix reads, walk its resource schema (bundled in
cfn-lint's package data) and the request shape of the matching API operation (botocore's
service model) side by side, and record, for every CloudFormation property path that has an API
counterpart, the API member name of its last segment. The rules are written against API names
(camelCase, the shape of the raw JSON files); the CloudFormation front end uses this table to
translate paths both ways.

Paths: PascalCase keys joined by "." with a leading ".", "[]" after a key whose value is a list
(".LoadBalancers[].ContainerName"). A free-form map (a pipeline action's Configuration, an API
map) is not descended into.

Matching a CloudFormation key to an API member of the shape at the same place, in order:
exact, first letter lower-cased, same letters ignoring case, then the short list of renames in
RENAMES. Where the two sides disagree on the structure (a list against a map, an object against
a list of lists), the key is recorded and the walk stops there; the path is listed in
"shape_differs".

Also recorded per type, from the schema: create_only (createOnlyProperties: changing one
replaces the resource), conditional_create_only, write_only and read_only; "/properties/A/B"
becomes "A" for a top-level property and ".A.B" for a nested one.

Usage: gen-cfn-names.py [--out FILE] [--verbose]   (default: src/front/cfn/names.json in the repository;
"-" writes to standard output). Needs the validators' venv: scripts/setup-validators.sh.
The output is deterministic: sorted keys, indent 1, a trailing newline.
"""

import argparse
import json
import os
import sys

import botocore
import botocore.loaders
import cfnlint
import cfnlint.version

GENERATED_BY = "scripts/gen-cfn-names.py"

# CloudFormation type -> (botocore service, input shape).
TYPES = {
    "AWS::CodeBuild::Project": ("codebuild", "CreateProjectInput"),
    "AWS::CodeDeploy::DeploymentGroup": ("codedeploy", "CreateDeploymentGroupInput"),
    "AWS::CodePipeline::Pipeline": ("codepipeline", "PipelineDeclaration"),
    "AWS::ECS::Service": ("ecs", "CreateServiceRequest"),
    "AWS::ECS::TaskDefinition": ("ecs", "RegisterTaskDefinitionRequest"),
    "AWS::ElasticLoadBalancingV2::TargetGroup": ("elbv2", "CreateTargetGroupInput"),
}

# Keys whose API member has another name altogether (not a case difference), per type:
# CloudFormation path -> API member name.
RENAMES = {
    "AWS::ECS::Service": {".PlacementStrategies": "placementStrategy"},
    "AWS::ECS::TaskDefinition": {
        ".ProxyConfiguration.ProxyConfigurationProperties": "properties",
    },
}

REGION = "us-east-1"


def fail(msg):
    sys.exit(f"gen-cfn-names: {msg}")


class Schema:
    """One CloudFormation resource schema, with local $ref resolution."""

    def __init__(self, doc, type_name):
        self.doc = doc
        self.type_name = type_name

    def resolve(self, node):
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                fail(f"{self.type_name}: cannot resolve $ref {ref!r}")
            seen.add(ref)
            target = self.doc
            for part in ref[2:].split("/"):
                if not isinstance(target, dict) or part not in target:
                    fail(f"{self.type_name}: dangling $ref {ref!r}")
                target = target[part]
            node = target
        return node

    def properties(self, node):
        """The named properties of an object node (merging allOf/anyOf/oneOf branches), or None
        when the node is not an object with named properties (a scalar, a free-form map)."""
        node = self.resolve(node)
        if not isinstance(node, dict):
            return None
        props = {}
        if isinstance(node.get("properties"), dict):
            props.update(node["properties"])
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(key, []):
                sub = self.properties(branch)
                if sub:
                    for name, value in sub.items():
                        props.setdefault(name, value)
        return props or None

    def items(self, node):
        """The item schema of a list node, or None."""
        node = self.resolve(node)
        if isinstance(node, dict) and "items" in node:
            types = node.get("type")
            if types == "array" or (isinstance(types, list) and "array" in types) or types is None:
                return node["items"]
        return None


def load_schema(type_name):
    base = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
    with open(os.path.join(base, "providers", f"{REGION}.json"), encoding="utf-8") as f:
        providers = json.load(f)
    digest = providers.get(type_name)
    if not isinstance(digest, str):
        fail(f"{type_name} is not in cfn-lint's {REGION} provider list")
    with open(os.path.join(base, "resources", f"{digest}.json"), encoding="utf-8") as f:
        return Schema(json.load(f), type_name)


def match_member(cfn_key, members, renamed):
    """The API member for a CloudFormation key, or None."""
    if renamed is not None:
        return renamed if renamed in members else None
    if cfn_key in members:
        return cfn_key
    lowered = cfn_key[:1].lower() + cfn_key[1:]
    if lowered in members:
        return lowered
    folded = [m for m in members if m.lower() == cfn_key.lower()]
    if len(folded) == 1:
        return folded[0]
    return None


class Walker:
    def __init__(self, type_name, schema, shapes):
        self.type_name = type_name
        self.schema = schema
        self.shapes = shapes
        self.renames = RENAMES.get(type_name, {})
        self.used_renames = set()
        self.names = {}
        self.shape_differs = set()
        self.unmatched = []

    def shape(self, name):
        if name not in self.shapes:
            fail(f"{self.type_name}: botocore has no shape {name!r}")
        return self.shapes[name]

    def walk_object(self, cfn_node, shape_name, path, stack):
        props = self.schema.properties(cfn_node)
        members = self.shape(shape_name).get("members", {})
        for key in sorted(props):
            sub_path = f"{path}.{key}"
            renamed = self.renames.get(sub_path)
            if renamed is not None:
                self.used_renames.add(sub_path)
            member = match_member(key, members, renamed)
            if member is None:
                self.unmatched.append(sub_path)
                continue
            self.names[sub_path] = member
            self.walk_value(props[key], members[member]["shape"], sub_path, stack)

    def walk_value(self, cfn_node, shape_name, path, stack):
        """Descend into a value both sides agree is an object or a list; stop otherwise."""
        if shape_name in stack:  # a recursive shape: the schema side is finite anyway
            return
        api = self.shape(shape_name)
        kind = api.get("type")
        props = self.schema.properties(cfn_node)
        items = self.schema.items(cfn_node)
        if props is not None:
            if kind == "structure":
                self.walk_object(cfn_node, shape_name, path, stack + [shape_name])
            else:
                self.shape_differs.add(path)
        elif items is not None:
            if kind == "list":
                item_shape = api["member"]["shape"]
                item_props = self.schema.properties(items)
                item_items = self.schema.items(items)
                inner = self.shape(item_shape).get("type")
                if item_props is not None and inner != "structure":
                    self.shape_differs.add(path)
                elif item_items is not None and inner != "list":
                    self.shape_differs.add(path)
                elif item_props is not None or item_items is not None:
                    self.walk_value(items, item_shape, path + "[]", stack + [shape_name])
            else:
                self.shape_differs.add(path)
        elif kind in ("structure", "list") and not self.free_form(cfn_node):
            self.shape_differs.add(path)

    def free_form(self, cfn_node):
        node = self.schema.resolve(cfn_node)
        if not isinstance(node, dict):
            return False
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        return "object" in types or "patternProperties" in node


def property_paths(schema, key):
    out = []
    for pointer in schema.doc.get(key, []):
        if not pointer.startswith("/properties/"):
            fail(f"{schema.type_name}: unexpected {key} entry {pointer!r}")
        parts = [p for p in pointer[len("/properties/"):].split("/") if p != "properties"]
        parts = ["[]" if p == "*" else p for p in parts]
        if len(parts) == 1:
            out.append(parts[0])
        else:
            out.append("." + ".".join(parts).replace(".[]", "[]"))
    return sorted(set(out))


def generate(verbose=False):
    loader = botocore.loaders.Loader()
    models = {}
    types = {}
    for type_name, (service, shape_name) in sorted(TYPES.items()):
        if service not in models:
            models[service] = loader.load_service_model(service, "service-2")
        schema = load_schema(type_name)
        walker = Walker(type_name, schema, models[service]["shapes"])
        walker.walk_object(schema.doc, shape_name, "", [shape_name])
        missing = sorted(set(walker.renames) - walker.used_renames)
        if missing:
            fail(f"{type_name}: renames no longer in the schema: {', '.join(missing)}")
        entry = {
            "api": f"{service}:{shape_name}",
            "names": walker.names,
            "create_only": property_paths(schema, "createOnlyProperties"),
            "conditional_create_only": property_paths(schema, "conditionalCreateOnlyProperties"),
            "write_only": property_paths(schema, "writeOnlyProperties"),
            "read_only": property_paths(schema, "readOnlyProperties"),
            "shape_differs": sorted(walker.shape_differs),
        }
        types[type_name] = entry
        if verbose:
            for path in walker.unmatched:
                print(f"{type_name}: no API member for {path}", file=sys.stderr)
            for path in sorted(walker.shape_differs):
                print(f"{type_name}: structures differ at {path}", file=sys.stderr)
    return {
        "generated_by": GENERATED_BY,
        "cfn_lint": cfnlint.version.__version__,
        "botocore": botocore.__version__,
        "types": types,
    }


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(root, "src", "front", "cfn", "names.json"))
    parser.add_argument("--verbose", action="store_true",
                        help="list the properties without an API counterpart on standard error")
    args = parser.parse_args()
    text = json.dumps(generate(args.verbose), sort_keys=True, indent=1) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
        return
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
