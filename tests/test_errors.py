import orjson
import pytest

from kiln import errors
from kiln.core import error_response
from tests.support import shapes


def _modeled():
    model = shapes.model()
    return {name: model.shape_for(name) for name in model.shape_names if model.shape_for(name).metadata.get("exception")}


def test_every_modeled_error_shape_has_a_class_with_the_model_status():
    modeled = _modeled()
    assert set(modeled) == set(errors.MODELED)
    for name, shape in modeled.items():
        assert errors.MODELED[name].status == shape.metadata["error"]["httpStatusCode"], name
        assert list(shape.members) == ["message"], name


@pytest.mark.parametrize("code", sorted(errors.MODELED))
def test_error_serializes_as_the_service_does(code):
    response = error_response(errors.MODELED[code](f"{code} happened."), "req-1")
    assert response.status == errors.MODELED[code].status
    assert response.headers["x-amzn-errortype"] == code
    assert response.headers["x-amzn-requestid"] == "req-1"
    assert response.headers["content-type"] == "application/json"
    assert orjson.loads(response.body) == {"message": f"{code} happened."}


def test_invalid_value_wording():
    e = errors.invalid_value("distributions[0].region", "Bad region.")
    assert (e.code, e.status, e.message) == (
        "InvalidParameterValueException", 400, "The value supplied for parameter 'distributions[0].region' is not valid. Bad region.")
