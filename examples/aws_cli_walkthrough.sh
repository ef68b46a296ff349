#!/usr/bin/env bash
# The main Image Builder flow with the AWS CLI, against `kiln serve`.
#
#   kiln serve --in-memory &                 # listens on http://127.0.0.1:4599
#   bash examples/aws_cli_walkthrough.sh     # KILN_URL=http://host:port to point elsewhere
#
# Needs only the AWS CLI (v1 or v2). kiln takes any credentials; a 12-digit access
# key id becomes the account id.
set -euo pipefail

KILN_URL="${KILN_URL:-http://127.0.0.1:4599}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-123456789012}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-kiln}"
export AWS_PAGER=""   # AWS CLI v2: print, don't page

ib() { aws --endpoint-url "$KILN_URL" --region us-east-1 --output json imagebuilder "$@"; }

# Delete what this script made, also when a step fails (newest first).
COMPONENT_ARN="" RECIPE_ARN="" INFRA_ARN="" DIST_ARN="" IMAGE_ARN=""
cleanup() {
  [ -n "$IMAGE_ARN" ] && ib delete-image --image-build-version-arn "$IMAGE_ARN" > /dev/null
  [ -n "$DIST_ARN" ] && ib delete-distribution-configuration --distribution-configuration-arn "$DIST_ARN" > /dev/null
  [ -n "$INFRA_ARN" ] && ib delete-infrastructure-configuration --infrastructure-configuration-arn "$INFRA_ARN" > /dev/null
  [ -n "$RECIPE_ARN" ] && ib delete-image-recipe --image-recipe-arn "$RECIPE_ARN" > /dev/null
  [ -n "$COMPONENT_ARN" ] && ib delete-component --component-build-version-arn "$COMPONENT_ARN" > /dev/null
  echo "== cleaned up"
}
trap cleanup EXIT

PARENT_IMAGE="arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x"
UPDATE_LINUX="arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x"

echo "== component from a YAML file"
COMPONENT_ARN=$(ib create-component --name hello-kiln --semantic-version 1.0.0 --platform Linux \
  --data "file://$HERE/hello-component.yaml" --query componentBuildVersionArn --output text)
echo "$COMPONENT_ARN"

echo "== image recipe: Amazon Linux 2023 + our component + update-linux"
RECIPE_ARN=$(ib create-image-recipe --name hello-recipe --semantic-version 1.0.0 \
  --parent-image "$PARENT_IMAGE" \
  --components "[{\"componentArn\":\"$COMPONENT_ARN\",\"parameters\":[{\"name\":\"Greeting\",\"value\":[\"hello from the CLI\"]}]},{\"componentArn\":\"$UPDATE_LINUX\"}]" \
  --query imageRecipeArn --output text)
echo "$RECIPE_ARN"

echo "== infrastructure configuration"
INFRA_ARN=$(ib create-infrastructure-configuration --name hello-infra \
  --instance-profile-name EC2InstanceProfileForImageBuilder --instance-types t3.micro \
  --query infrastructureConfigurationArn --output text)
echo "$INFRA_ARN"

echo "== distribution configuration for two Regions"
# JSON rather than shorthand syntax: the AMI name's {{ }} would confuse the shorthand parser.
DIST_ARN=$(ib create-distribution-configuration --name hello-distribution --distributions '[
    {"region": "us-east-1", "amiDistributionConfiguration": {"name": "hello-kiln-{{ imagebuilder:buildDate }}"}},
    {"region": "us-west-2", "amiDistributionConfiguration": {"name": "hello-kiln-{{ imagebuilder:buildDate }}"}}
  ]' --query distributionConfigurationArn --output text)
echo "$DIST_ARN"

echo "== create the image and wait for AVAILABLE"
IMAGE_ARN=$(ib create-image --image-recipe-arn "$RECIPE_ARN" \
  --infrastructure-configuration-arn "$INFRA_ARN" --distribution-configuration-arn "$DIST_ARN" \
  --tags project=kiln-example --query imageBuildVersionArn --output text)
echo "$IMAGE_ARN"
for _ in $(seq 1 120); do
  STATUS=$(ib get-image --image-build-version-arn "$IMAGE_ARN" --query image.state.status --output text)
  echo "  $STATUS"
  case "$STATUS" in
    AVAILABLE) break ;;
    FAILED|CANCELLED) echo "build ended $STATUS" >&2; exit 1 ;;
  esac
  sleep 1
done
[ "$STATUS" = AVAILABLE ]

echo "== get-image by build ARN, version ARN and x.x.x wildcard"
VERSION_ARN="${IMAGE_ARN%/*}"
WILDCARD_ARN="${VERSION_ARN%/*}/x.x.x"
for ARN in "$IMAGE_ARN" "$VERSION_ARN" "$WILDCARD_ARN"; do
  echo "  $ARN -> $(ib get-image --image-build-version-arn "$ARN" --query image.arn --output text)"
done
ib get-image --image-build-version-arn "$IMAGE_ARN" --query 'image.outputResources.amis[].[region,image]' --output table

echo "== list"
ib list-images --query 'imageVersionList[].{arn: arn, version: version}'
ib list-image-build-versions --image-version-arn "$VERSION_ARN" --query 'imageSummaryList[].[arn,state.status]' --output text

echo "== an error: get-image on an ARN that names nothing"
# The CLI exits 255 (v1) or 254 (v2) and prints the error code and message on stderr.
if ERROR=$(ib get-image --image-build-version-arn "${VERSION_ARN/hello-recipe/no-such-image}/1" 2>&1); then
  echo "expected ResourceNotFoundException" >&2; exit 1
else
  CODE=$?
fi
echo "  exit code $CODE:$ERROR"
[[ "$ERROR" == *ResourceNotFoundException* ]]

echo "== done"
