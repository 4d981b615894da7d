"""Runs the AWS SAM transform on a template, locally and without credentials,
and writes the CloudFormation template it expands to (JSON), so that
cfn-lint checks what CloudFormation will deploy (functions/tests/deploy.rs).

    .venv/bin/python scripts/sam_transform.py deploy/template.yaml out.json

The transform is aws-sam-translator's, the library `sam deploy` runs; the
region and the account are placeholders (the template names none). A
template that does not transform (an unknown property of an event source,
say) exits 1 with SAM's own message.
"""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class NoManagedPolicies:
    """The template's policies are all inline: no AWS managed policy to look up."""

    def load(self):
        return {}


def packaged(template):
    """What `sam package` does first: each function's local CodeUri becomes
    the S3 object it uploads the folder to."""
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = resource.get("Properties", {}).get("CodeUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                resource["Properties"]["CodeUri"] = f"s3://sam-artifacts/{name}.zip"
    return template


def main(source, target):
    with open(source, encoding="utf-8") as f:
        template = packaged(yaml_parse(f.read()))
    try:
        expanded = transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"{source}: {cause.message}", file=sys.stderr)
        return 1
    with open(target, "w", encoding="utf-8") as f:
        json.dump(expanded, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: sam_transform.py TEMPLATE OUT.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
