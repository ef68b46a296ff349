"""kiln: EC2 Image Builder on your own machine."""
from __future__ import annotations

__version__ = "0.1.0"


def mock_imagebuilder(*args, **kwargs):
    """In-process Image Builder for boto3 (see kiln.mock)."""
    from kiln.mock import mock_imagebuilder as _mock

    return _mock(*args, **kwargs)
