import pytest

from metrology.eventkit.errors import RuleViolationError
from metrology.registry.domain import taxcode


@pytest.mark.parametrize("code", ["0300588569", "0101248141"])
def test_real_tax_codes_pass_the_check_digit(code):
    assert taxcode.is_valid(code)


def test_a_branch_code_is_valid_when_its_parent_code_is():
    assert taxcode.is_valid("0300588569-001")
    assert not taxcode.is_valid("0300588568-001")


@pytest.mark.parametrize(
    "code", ["0300588568", "030058856", "03005885690", "0300588569-01", "0300588569/001", "A300588569"]
)
def test_malformed_or_mistyped_codes_are_refused(code):
    assert not taxcode.is_valid(code)


def test_a_prefix_with_remainder_zero_has_no_valid_code():
    prefix = next(f"{n:09d}" for n in range(10_000) if taxcode.check_digit(f"{n:09d}") is None)
    assert taxcode.complete(prefix) is None
    assert not any(taxcode.is_valid(prefix + str(d)) for d in range(10))


def test_complete_computes_the_check_digit():
    assert taxcode.complete("030058856") == "0300588569"
    assert taxcode.complete("010124814") == "0101248141"


def test_validation_names_the_field_and_the_rule():
    with pytest.raises(RuleViolationError) as caught:
        taxcode.validate("0300588568")
    assert (caught.value.field, caught.value.rule) == ("tax_code", "tax-code-check-digit")
    with pytest.raises(RuleViolationError) as caught:
        taxcode.validate("12345")
    assert caught.value.rule == "tax-code-format"
