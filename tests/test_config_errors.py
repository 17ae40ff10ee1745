"""A typo's did-you-mean when two config classes share a name (a ValidationError names its
model by class name only)."""

import pytest
from pydantic import ValidationError

from instructmine.config_errors import describe_validation


def test_the_hint_comes_from_the_class_whose_fields_fit():
    from instructmine.rule.compare import CompareConfig as RuleCompare
    from instructmine.select.compare_config import CompareConfig as SelectCompare

    assert RuleCompare.__name__ == SelectCompare.__name__  # the clash this guards against
    fields = set(SelectCompare.model_fields)
    assert "methods" in fields and "methods" not in RuleCompare.model_fields
    with pytest.raises(ValidationError) as err:
        SelectCompare.model_validate({"methds": ["rule"]})
    line = describe_validation(err.value)
    assert "methds" in line and "methods" in line.split("methds", 1)[1], line
    # and the other class of the same name gets its own hint (one lookup served both before)
    with pytest.raises(ValidationError) as err:
        RuleCompare.model_validate({"fit_fractoin": 0.5})
    line = describe_validation(err.value)
    assert "fit_fraction" in line.split("fit_fractoin", 1)[1], line
