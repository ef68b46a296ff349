"""rest-json wire protocol for Image Builder, driven entirely by botocore's model."""
