"""Test support: the response-shape walker, the raw HTTP helper and the backends the fixtures hand out."""
